/* SPDX-License-Identifier: MIT */
/*
 * ustack-script - runs a packet script against ustack's TCP on a virtual
 * clock, and compares its trace with the golden file.
 *
 *   ustack-script [--update-golden] [--pcap FILE] [--trace FILE]
 *                 [--golden FILE | --no-golden] [-v] SCRIPT
 *
 * Exit status: 0 when every line of the script happened as written and the
 * trace equals the golden file; 1 when not (the reason is on stderr, with
 * the script's line number, the expected and the actual line); 2 for a
 * usage or syntax error. --update-golden rewrites the golden file from this
 * run, and only when the script passes: goldens never change by themselves.
 *
 * Read first: docs/scripts.md, then tools/script/script.h.
 */
#include "script/script.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: ustack-script [--update-golden] [--pcap FILE] [--trace FILE]\n"
		   "                     [--golden FILE | --no-golden] [-v] SCRIPT\n"
		   "Runs a packet script (docs/scripts.md) against ustack's TCP on a virtual clock.\n"
		   "  --pcap FILE       write every frame, with virtual timestamps, to FILE\n"
		   "  --trace FILE      write the text trace to FILE\n"
		   "  --golden FILE     compare the trace with FILE (default: SCRIPT with .golden)\n"
		   "  --no-golden       do not compare the trace\n"
		   "  --update-golden   write the golden file from this run (only if the script passes)\n"
		   "  -v, --verbose     print the trace while running\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "update-golden", no_argument, NULL, 'u' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "trace", required_argument, NULL, 't' },
		{ "golden", required_argument, NULL, 'g' },
		{ "no-golden", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pcap = NULL, *trace_path = NULL, *golden_arg = NULL;
	bool update = false, no_golden = false, verbose = false;
	int c;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': update = true; break;
		case 'p': pcap = optarg; break;
		case 't': trace_path = optarg; break;
		case 'g': golden_arg = optarg; break;
		case 'n': no_golden = true; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || (update && no_golden)) {
		usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	struct us_script sc;
	char err[2048];
	if (us_script_load(path, &sc, err, sizeof err) < 0) {
		fputs(err, stderr);
		us_script_free(&sc);
		return 2;
	}
	struct us_script_run_opts opts = { .pcap_path = pcap, .err = stderr, .verbose = verbose,
					   .trace = verbose ? stdout : NULL };
	char *trace = NULL;
	int rc = us_script_run(&sc, &opts, &trace);
	if (rc < 0) {
		free(trace);
		us_script_free(&sc);
		return 1;
	}
	if (trace_path && trace) {
		FILE *f = fopen(trace_path, "we");
		if (!f || fputs(trace, f) < 0 || fclose(f) != 0) {
			fprintf(stderr, "%s: cannot write the trace\n", trace_path);
			rc = 1;
		}
	}
	char *golden = golden_arg ? strdup(golden_arg) : us_script_golden_path(path);
	if (rc == 0 && !no_golden && trace && golden) {
		if (update) {
			if (us_script_golden_write(golden, trace, stderr) < 0)
				rc = 1;
			else
				fprintf(stderr, "%s: written\n", golden);
		} else if (us_script_golden_compare(golden, trace, stderr) != 0) {
			rc = 1;
		}
	} else if (rc != 0 && update) {
		fprintf(stderr, "%s: not written: the script fails\n", golden ? golden : "golden");
	}
	if (rc == 0)
		fprintf(stderr, "%s: pass\n", path);
	free(golden);
	free(trace);
	us_script_free(&sc);
	return rc;
}
