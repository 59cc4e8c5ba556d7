//go:build !purego

#include "textflag.h"

// func maskSSE2(b []byte, k uint64) int
TEXT ·maskSSE2(SB), NOSPLIT, $0-40
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), CX
	MOVQ k+24(FP), X0
	PUNPCKLQDQ X0, X0
	ANDQ $~63, CX
	MOVQ CX, ret+32(FP)
	JZ   sse2done
	ADDQ DI, CX

sse2loop:
	MOVOU 0(DI), X1
	MOVOU 16(DI), X2
	MOVOU 32(DI), X3
	MOVOU 48(DI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, 0(DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, DI
	CMPQ  DI, CX
	JNE   sse2loop

sse2done:
	RET

// func maskAVX2(b []byte, k uint64) int
// It needs len(b) >= 64 and masks all of b. The 32-byte stores are aligned,
// which matters when they would otherwise cross cache lines: the first and
// last 32 bytes are loaded before anything is stored, the loops run from
// the first 32-byte boundary with the key rotated to match, and the head
// and tail are masked and stored last (where they overlap the loops they
// store the same values).
//
// Every vector instruction here is VEX-encoded (VMOVQ, not MOVQ, into an
// X register): once a Y register is written, a legacy SSE instruction
// costs an SSE/AVX state transition, which on Intel Xeons made each call
// take about 225 ns more, whatever its length.
TEXT ·maskAVX2(SB), NOSPLIT, $0-40
	MOVQ         b_base+0(FP), DI
	MOVQ         b_len+8(FP), BX
	MOVQ         k+24(FP), AX
	MOVQ         DI, R8
	LEAQ         (DI)(BX*1), R9
	VMOVDQU      (DI), Y5
	VMOVDQU      -32(R9), Y6
	VPBROADCASTQ k+24(FP), Y8

	// Key for the tail, at offset len-32: rotate by 8*(len%4) bits.
	MOVQ         BX, CX
	ANDQ         $3, CX
	SHLQ         $3, CX
	MOVQ         AX, DX
	RORQ         CX, DX
	VMOVQ        DX, X7
	VPBROADCASTQ X7, Y7

	// Advance to the 32-byte boundary and rotate the key to match.
	MOVQ         DI, CX
	NEGQ         CX
	ANDQ         $31, CX
	ADDQ         CX, DI
	SHLQ         $3, CX
	RORQ         CX, AX
	VMOVQ        AX, X0
	VPBROADCASTQ X0, Y0

	LEAQ -128(R9), CX

loop128:
	CMPQ    DI, CX
	JHI     done128
	VPXOR   0(DI), Y0, Y1
	VPXOR   32(DI), Y0, Y2
	VPXOR   64(DI), Y0, Y3
	VPXOR   96(DI), Y0, Y4
	VMOVDQA Y1, 0(DI)
	VMOVDQA Y2, 32(DI)
	VMOVDQA Y3, 64(DI)
	VMOVDQA Y4, 96(DI)
	ADDQ    $128, DI
	JMP     loop128

done128:
	LEAQ -32(R9), CX

loop32:
	CMPQ    DI, CX
	JHI     done32
	VPXOR   (DI), Y0, Y1
	VMOVDQA Y1, (DI)
	ADDQ    $32, DI
	JMP     loop32

done32:
	VPXOR      Y6, Y7, Y6
	VMOVDQU    Y6, -32(R9)
	VPXOR      Y5, Y8, Y5
	VMOVDQU    Y5, (R8)
	MOVQ       BX, ret+32(FP)
	VZEROUPPER
	RET

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-4
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	RET
