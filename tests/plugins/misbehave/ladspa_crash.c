/* SPDX-License-Identifier: MIT */
/*
 * A LADSPA library whose descriptor function crashes: whatever lists the
 * installed plugins must survive it (partita plugins lists the others and
 * names this one).
 */
#include <ladspa.h>

static const LADSPA_Descriptor *volatile *volatile nowhere;

const LADSPA_Descriptor *ladspa_descriptor(unsigned long i)
{
	(void)i;
	return *nowhere;
}
