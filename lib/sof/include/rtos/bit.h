/* SPDX-License-Identifier: MIT */
/* lib/sof: bit helpers, as the firmware names them. */
#ifndef PT_SOF_RTOS_BIT_H
#define PT_SOF_RTOS_BIT_H

#ifndef BIT
#define BIT(b) (1UL << (b))
#endif
#define BIT_ULL(b) (1ULL << (b))
/* Bits b_hi..b_lo set. */
#define MASK(b_hi, b_lo) (((1ULL << ((b_hi) - (b_lo) + 1ULL)) - 1ULL) << (b_lo))
#define GENMASK(h, l) MASK(h, l)
#define SET_BIT(b, x) (((x) & 1) << (b))
#define SET_BITS(b_hi, b_lo, x) (((x) & ((1ULL << ((b_hi) - (b_lo) + 1ULL)) - 1ULL)) << (b_lo))
#define GET_BIT(b, x) (((x) & (1ULL << (b))) >> (b))
#define GET_BITS(b_hi, b_lo, x) (((x) & MASK(b_hi, b_lo)) >> (b_lo))

#endif
