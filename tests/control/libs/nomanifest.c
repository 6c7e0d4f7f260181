/* SPDX-License-Identifier: MIT */
/* A shared object that is not a Partita module: no manifest section. */
__attribute__((visibility("default"))) int not_a_module(int x)
{
	return x + 1;
}
