/* stack_paint.h - the word start.S paints the stack with; a word still
 * holding it was never written (shared by start.S and port.c). */
#ifndef COAPS_FW_STACK_PAINT_H
#define COAPS_FW_STACK_PAINT_H
#define STACK_PAINT 0x5AC3A55A
#endif
