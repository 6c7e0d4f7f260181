/* SPDX-License-Identifier: MIT */
/*
 * tools/partita - the partita command. Each subcommand is one
 * pt_cmd_NAME(argc, argv) (argv[0] is the subcommand's name) returning the
 * process exit status; each answers --help.
 */
#ifndef PT_TOOLS_CMD_H
#define PT_TOOLS_CMD_H

int pt_cmd_run(int argc, char **argv);
int pt_cmd_bench(int argc, char **argv);
int pt_cmd_domains(int argc, char **argv);
int pt_cmd_serve(int argc, char **argv);
int pt_cmd_ctl(int argc, char **argv);
int pt_cmd_inspect(int argc, char **argv);
int pt_cmd_sign(int argc, char **argv);
int pt_cmd_top(int argc, char **argv);
int pt_cmd_plugins(int argc, char **argv);

#endif
