//go:build !purego

#include "textflag.h"

// func asciiBlocks(p []byte) int
// ORs each 64-byte block together and stops at the first block with a high
// bit set (PMOVMSKB gathers the top bit of each byte).
TEXT ·asciiBlocks(SB), NOSPLIT, $0-32
	MOVQ p_base+0(FP), SI
	MOVQ p_len+8(FP), CX
	MOVQ SI, DI
	ANDQ $~63, CX
	ADDQ SI, CX

loop:
	CMPQ     SI, CX
	JEQ      done
	MOVOU    0(SI), X0
	MOVOU    16(SI), X1
	MOVOU    32(SI), X2
	MOVOU    48(SI), X3
	POR      X1, X0
	POR      X3, X2
	POR      X2, X0
	PMOVMSKB X0, AX
	TESTL    AX, AX
	JNZ      done
	ADDQ     $64, SI
	JMP      loop

done:
	SUBQ DI, SI
	MOVQ SI, ret+24(FP)
	RET
