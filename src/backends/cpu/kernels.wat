;; The CPU backend's fast kernels: WebAssembly SIMD (f32x4) for the LSTM's products and gate math,
;; and the drivers that walk the layers and steps, so that one call runs a whole forward pass,
;; backward pass or update, on one thread or split across threads sharing this memory. The readable
;; reference is lstm.ts; fastLstm.ts lays out the memory and the tests hold the results to the
;; reference. scripts/build-cpu-kernels.ts compiles four variants into kernelsWasm.ts: products by
;; f32x4.relaxed_madd (fused where the engine offers relaxed SIMD) or by mul then add, each on a
;; private or a shared memory.
;;
;; Legend: B = batch rows, T = window, Ip = a layer's input slot (its inputs, padded to whole
;; vectors above the first layer), H = hidden size, Hp = H rounded up to a multiple of 4 (of 8 from
;; 64 units), G = 4Hp gate columns (gate g of unit j at g*Hp + j), Kp = yAt + Hp with yAt = Ip + 1
;; rounded up to 4.
;; Every pointer is a byte offset into memory, every stride ("row") in bytes, every count in
;; elements. Per layer (fastLstm.ts carves them from heapBase, see its header):
;;   theta  (Kp, G)       [W (Ip rows); b (1 row); 0 rows up to yAt; V (Hp rows)], the parameters
;;   z      (T+1, B, Kp)  [x_t, 1, 0.., y_{t-1}]: row t of z times theta is the pre-activation
;;   gates  (T, B, G)     pre-activations, then the activations f, i, g, o
;;   c      (T+1, B, Hp)  cell state, c_0 = 0;  tanhC (T, B, Hp);  gy (T, B, Hp) gradient reaching y_t
;;   delta  (T, B, G)     gate deltas;  thetaT: V^T (G, Hp) then W^T (G, Ip), theta's parts
;;                        transposed in column strips for the backward products;  thetaS (Kp, G)
;;                        theta in column strips for the forward products
;;
;; Memory map: kernelMemory.ts is its one table, and this file names its entries in braces, which
;; scripts/build-cpu-kernels.ts replaces by the table's numbers ({control.threads} is the address
;; of the control block's thread count, offset={layer.gy} the offset of gy in a layer table entry,
;; {command.stop} a command's code); so this file is WebAssembly text only once built. From address
;; 0: activate's constants; control (the command, thread count, batch, barrier, failure flag, the
;; update's arguments, the row counters the threads claim from, whether they split units or rows);
;; mailboxes (one i32 per thread, bumped to hand it the command); model (T, the layer table, the
;; parameter buffers, the scratch); shareWeights, busy and busyRows (one per thread: its share of
;; every split, and its time and rows in the last pass, which set the shares); then, from heapBase,
;; fastLstm.ts's buffers. The layer table holds one entry a layer (LAYER_ENTRY), the layer's shape
;; and its buffers' addresses.
;;
;; Threads: thread 0 (the caller of run) hands a command to threads 1.. through their mailboxes and
;; works too; the threads claim chunks of batch rows for the recurrences, one after another until none
;; is left (big ones first, then single tiles: see $chunkAt; no thread reads another's rows, so steps
;; need no barrier, and a thread its core holds back takes less), and split gate columns for packing
;; theta's strips and for the weight gradients and ranges of parameters for the update in shares; a
;; barrier separates the phases and ends the call. For large layers the threads split the hidden
;; units of the recurrences instead, with a barrier a step ($forwardUnits, $backwardUnits): each
;; thread then reads only its columns of theta, where with rows each would read all of it.

(module
  (memory (import "env" "memory") 1 65536 shared)
  ;; performance.now(): milliseconds, for the busy times that set the share weights.
  (import "env" "now" (func $now (result f64)))

  ;; ---------------------------------------------------------------------------------------------
  ;; Products. gemm: C (m, n) = [C +] A (m, k) · Bm (k, n), C row-major with n a multiple of 4;
  ;; A[i, p] at a + i*aRow + p*aInner, so the same kernel takes A (aInner = 4) or A transposed
  ;; (aRow = 4, for the weight gradients z^T δ). Bm is row-major (rows ldb bytes apart) when bStrips
  ;; is 0, else packed in column strips (see $packStrips): columns q..q+7 at b + (q/8)*bStrips, their
  ;; rows 32 bytes apart (16 in a last strip of 4 columns). For the cache: Bm is taken in panels of at
  ;; most GEMM_PANEL rows (256, kernelMemory.ts; an 8-column strip of a panel stays in L1 while every row block of A passes over
  ;; it), and each panel of A is first packed into `packed`, 4 rows interleaved, so the inner loop
  ;; reads A through one pointer. Tiles of 4 rows x 8 columns keep 8 accumulators in registers.
  ;; A row-major Bm's strip is 8 floats from each of up to GEMM_PANEL rows, rows strided so they do not
  ;; share cache sets (fastLstm.ts's rowStride); packed, it is one run of memory the processor
  ;; fetches ahead, which is what a product of few rows needs: over row-major weights it would wait
  ;; on fetching rows scattered across memory.
  ;; ---------------------------------------------------------------------------------------------

  (func $tile4x8
    (param $cp i32) (param $ldc i32) (param $ap i32) (param $bp i32) (param $ldb i32) (param $k i32)
    (param $accumulate i32) (param $rows i32)
    (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $c1 (i32.add (local.get $cp) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    ;; Rows past `rows` are computed from the packing's zeros and never stored.
    (if (local.get $accumulate)
      (then
        (local.set $c00 (v128.load (local.get $cp)))
        (local.set $c01 (v128.load offset=16 (local.get $cp)))
        (if (i32.gt_u (local.get $rows) (i32.const 1))
          (then
            (local.set $c10 (v128.load (local.get $c1)))
            (local.set $c11 (v128.load offset=16 (local.get $c1)))))
        (if (i32.gt_u (local.get $rows) (i32.const 2))
          (then
            (local.set $c20 (v128.load (local.get $c2)))
            (local.set $c21 (v128.load offset=16 (local.get $c2)))))
        (if (i32.gt_u (local.get $rows) (i32.const 3))
          (then
            (local.set $c30 (v128.load (local.get $c3)))
            (local.set $c31 (v128.load offset=16 (local.get $c3)))))))
    (if (local.get $k)
      (then
        (loop $inner
          (local.set $b0 (v128.load (local.get $bp)))
          (local.set $b1 (v128.load offset=16 (local.get $bp)))
          (local.set $s (v128.load32_splat (local.get $ap)))
          (local.set $c00 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c00)))
          (local.set $c01 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c01)))
          (local.set $s (v128.load32_splat offset=4 (local.get $ap)))
          (local.set $c10 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c10)))
          (local.set $c11 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c11)))
          (local.set $s (v128.load32_splat offset=8 (local.get $ap)))
          (local.set $c20 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c20)))
          (local.set $c21 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c21)))
          (local.set $s (v128.load32_splat offset=12 (local.get $ap)))
          (local.set $c30 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c30)))
          (local.set $c31 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c31)))
          (local.set $ap (i32.add (local.get $ap) (i32.const 16)))
          (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
          (br_if $inner (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (v128.store (local.get $cp) (local.get $c00))
    (v128.store offset=16 (local.get $cp) (local.get $c01))
    (if (i32.gt_u (local.get $rows) (i32.const 1))
      (then
        (v128.store (local.get $c1) (local.get $c10))
        (v128.store offset=16 (local.get $c1) (local.get $c11))))
    (if (i32.gt_u (local.get $rows) (i32.const 2))
      (then
        (v128.store (local.get $c2) (local.get $c20))
        (v128.store offset=16 (local.get $c2) (local.get $c21))))
    (if (i32.gt_u (local.get $rows) (i32.const 3))
      (then
        (v128.store (local.get $c3) (local.get $c30))
        (v128.store offset=16 (local.get $c3) (local.get $c31)))))

  ;; The column tail of a strip (n % 8 = 4): 4 rows x 4 columns.
  (func $tile4x4
    (param $cp i32) (param $ldc i32) (param $ap i32) (param $bp i32) (param $ldb i32) (param $k i32)
    (param $accumulate i32) (param $rows i32)
    (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $b0 v128)
    (local $c0v v128) (local $c1v v128) (local $c2v v128) (local $c3v v128)
    (local.set $c1 (i32.add (local.get $cp) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (if (local.get $accumulate)
      (then
        (local.set $c0v (v128.load (local.get $cp)))
        (if (i32.gt_u (local.get $rows) (i32.const 1)) (then (local.set $c1v (v128.load (local.get $c1)))))
        (if (i32.gt_u (local.get $rows) (i32.const 2)) (then (local.set $c2v (v128.load (local.get $c2)))))
        (if (i32.gt_u (local.get $rows) (i32.const 3)) (then (local.set $c3v (v128.load (local.get $c3)))))))
    (if (local.get $k)
      (then
        (loop $inner
          (local.set $b0 (v128.load (local.get $bp)))
          (local.set $c0v (f32x4.relaxed_madd (v128.load32_splat (local.get $ap)) (local.get $b0) (local.get $c0v)))
          (local.set $c1v (f32x4.relaxed_madd (v128.load32_splat offset=4 (local.get $ap)) (local.get $b0) (local.get $c1v)))
          (local.set $c2v (f32x4.relaxed_madd (v128.load32_splat offset=8 (local.get $ap)) (local.get $b0) (local.get $c2v)))
          (local.set $c3v (f32x4.relaxed_madd (v128.load32_splat offset=12 (local.get $ap)) (local.get $b0) (local.get $c3v)))
          (local.set $ap (i32.add (local.get $ap) (i32.const 16)))
          (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
          (br_if $inner (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
    (v128.store (local.get $cp) (local.get $c0v))
    (if (i32.gt_u (local.get $rows) (i32.const 1)) (then (v128.store (local.get $c1) (local.get $c1v))))
    (if (i32.gt_u (local.get $rows) (i32.const 2)) (then (v128.store (local.get $c2) (local.get $c2v))))
    (if (i32.gt_u (local.get $rows) (i32.const 3)) (then (v128.store (local.get $c3) (local.get $c3v)))))

  ;; dst rows r = 0..3 (dstRow apart) = column r of the 4 x 4 block at src (rows srcRow apart).
  (func $transpose4x4 (param $dst i32) (param $dstRow i32) (param $src i32) (param $srcRow i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $r0 (v128.load (local.get $src)))
    (local.set $r1 (v128.load (local.tee $src (i32.add (local.get $src) (local.get $srcRow)))))
    (local.set $r2 (v128.load (local.tee $src (i32.add (local.get $src) (local.get $srcRow)))))
    (local.set $r3 (v128.load (i32.add (local.get $src) (local.get $srcRow))))
    ;; (a0 b0 a1 b1), (a2 b2 a3 b3), (c0 d0 c1 d1), (c2 d2 c3 d3)
    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
    (v128.store (local.get $dst)
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
    (v128.store (local.tee $dst (i32.add (local.get $dst) (local.get $dstRow)))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
    (v128.store (local.tee $dst (i32.add (local.get $dst) (local.get $dstRow)))
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
    (v128.store (i32.add (local.get $dst) (local.get $dstRow))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3))))

  ;; A (m, kc) into blocks of 4 rows, p-major inside a block: dst[(block*kc + p)*4 + r] =
  ;; A[4*block + r, p], 0 for rows past m.
  (func $pack (param $dst i32) (param $a i32) (param $aRow i32) (param $aInner i32) (param $m i32) (param $kc i32)
    (local $left i32) (local $p i32) (local $src i32) (local $r i32) (local $quads i32)
    (local.set $left (local.get $m))
    (block $done
      (loop $block
        (br_if $done (i32.le_s (local.get $left) (i32.const 0)))
        (local.set $p (i32.const 0))
        (if (i32.and (i32.and (i32.eq (local.get $aRow) (i32.const 4)) (i32.ge_s (local.get $left) (i32.const 4)))
          (i32.gt_s (local.get $kc) (i32.const 0)))
          (then
            ;; A transposed: a block's 4 values at each p are adjacent.
            (loop $copy
              (v128.store (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 4)))
                (v128.load (i32.add (local.get $a) (i32.mul (local.get $p) (local.get $aInner)))))
              (br_if $copy (i32.lt_s (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc)))))
          (else
            (if (i32.and (i32.eq (local.get $aInner) (i32.const 4)) (i32.ge_s (local.get $left) (i32.const 4)))
              (then
                ;; A row-major: 4 x 4 blocks transposed, then the last kc % 4 columns one by one.
                (local.set $quads (i32.and (local.get $kc) (i32.const -4)))
                (block $quadsDone
                  (loop $quad
                    (br_if $quadsDone (i32.ge_s (local.get $p) (local.get $quads)))
                    (call $transpose4x4 (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 4))) (i32.const 16)
                      (i32.add (local.get $a) (i32.shl (local.get $p) (i32.const 2))) (local.get $aRow))
                    (local.set $p (i32.add (local.get $p) (i32.const 4)))
                    (br $quad)))))
            ;; What is left (or everything, for a block of fewer than 4 rows), one value at a time.
            (block $restDone
              (loop $rest
                (br_if $restDone (i32.ge_s (local.get $p) (local.get $kc)))
                (local.set $src (i32.add (local.get $a) (i32.mul (local.get $p) (local.get $aInner))))
                (local.set $r (i32.const 0))
                (loop $lane
                  (f32.store (i32.add (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 4))) (i32.shl (local.get $r) (i32.const 2)))
                    (select (f32.load (local.get $src)) (f32.const 0) (i32.lt_s (local.get $r) (local.get $left))))
                  (if (i32.lt_s (i32.add (local.get $r) (i32.const 1)) (local.get $left))
                    (then (local.set $src (i32.add (local.get $src) (local.get $aRow)))))
                  (br_if $lane (i32.lt_s (local.tee $r (i32.add (local.get $r) (i32.const 1))) (i32.const 4))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $rest)))))
        (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $kc) (i32.const 4))))
        (local.set $a (i32.add (local.get $a) (i32.shl (local.get $aRow) (i32.const 2))))
        (local.set $left (i32.sub (local.get $left) (i32.const 4)))
        (br $block))))

  (func $gemm
    (param $c i32) (param $ldc i32) (param $a i32) (param $aRow i32) (param $aInner i32)
    (param $b i32) (param $ldb i32) (param $bStrips i32) (param $m i32) (param $n i32) (param $k i32)
    (param $accumulate i32) (param $packed i32)
    (local $panels i32) (local $kc i32) (local $p0 i32) (local $q i32) (local $i i32) (local $ap i32)
    (local $wide i32) (local $rows i32) (local $bStrip i32) (local $bRow i32)
    (if (i32.or (i32.le_s (local.get $m) (i32.const 0)) (i32.le_s (local.get $n) (i32.const 0))) (then (return)))
    ;; Panels of about equal length, at most GEMM_PANEL; one pass when k is 0, so C is still written (zeros).
    (local.set $panels (i32.shr_u (i32.add (local.get $k) (i32.const {gemm.panelMask})) (i32.const {gemm.panelShift})))
    (if (i32.eqz (local.get $panels)) (then (local.set $panels (i32.const 1))))
    (local.set $kc (i32.div_u (i32.add (local.get $k) (i32.sub (local.get $panels) (i32.const 1))) (local.get $panels)))
    (loop $panel
      (if (i32.gt_s (local.get $kc) (i32.sub (local.get $k) (local.get $p0)))
        (then (local.set $kc (i32.sub (local.get $k) (local.get $p0)))))
      (call $pack (local.get $packed) (i32.add (local.get $a) (i32.mul (local.get $p0) (local.get $aInner)))
        (local.get $aRow) (local.get $aInner) (local.get $m) (local.get $kc))
      (local.set $q (i32.const 0))
      (loop $strip
        ;; 8 columns, or the last 4
        (local.set $wide (i32.le_s (i32.add (local.get $q) (i32.const 8)) (local.get $n)))
        (if (local.get $bStrips)
          (then
            (local.set $bRow (select (i32.const 32) (i32.const 16) (local.get $wide)))
            (local.set $bStrip (i32.add (i32.add (local.get $b) (i32.mul (i32.shr_u (local.get $q) (i32.const 3)) (local.get $bStrips)))
              (i32.mul (local.get $p0) (local.get $bRow)))))
          (else
            (local.set $bRow (local.get $ldb))
            (local.set $bStrip (i32.add (i32.add (local.get $b) (i32.mul (local.get $p0) (local.get $ldb)))
              (i32.shl (local.get $q) (i32.const 2))))))
        (local.set $i (i32.const 0))
        (local.set $ap (local.get $packed))
        (loop $rowBlock
          (local.set $rows (i32.sub (local.get $m) (local.get $i)))
          (if (local.get $wide)
            (then
              (call $tile4x8
                (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))) (i32.shl (local.get $q) (i32.const 2)))
                (local.get $ldc) (local.get $ap) (local.get $bStrip) (local.get $bRow) (local.get $kc)
                (local.get $accumulate) (local.get $rows)))
            (else
              (call $tile4x4
                (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))) (i32.shl (local.get $q) (i32.const 2)))
                (local.get $ldc) (local.get $ap) (local.get $bStrip) (local.get $bRow) (local.get $kc)
                (local.get $accumulate) (local.get $rows))))
          (local.set $ap (i32.add (local.get $ap) (i32.shl (local.get $kc) (i32.const 4))))
          (br_if $rowBlock (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $m))))
        (br_if $strip (i32.lt_s
          (local.tee $q (i32.add (local.get $q) (select (i32.const 8) (i32.const 4) (local.get $wide))))
          (local.get $n))))
      ;; Later panels add to what the first wrote.
      (local.set $accumulate (i32.const 1))
      (br_if $panel (i32.lt_s (local.tee $p0 (i32.add (local.get $p0) (local.get $kc))) (local.get $k)))))

  ;; Bm (rows, n) row-major at src (rows srcRow bytes apart) into column strips at dst (gemm's
  ;; bStrips = rows * 32), strips q0..q1 only (column indices, multiples of 8; n a multiple of 8).
  (func $packStrips (param $dst i32) (param $src i32) (param $srcRow i32) (param $rows i32) (param $q0 i32) (param $q1 i32)
    (local $q i32) (local $r i32) (local $to i32) (local $from i32)
    (local.set $q (local.get $q0))
    (block $done
      (loop $strips
        (br_if $done (i32.ge_s (local.get $q) (local.get $q1)))
        (local.set $to (i32.add (local.get $dst) (i32.mul (i32.shr_u (local.get $q) (i32.const 3)) (i32.shl (local.get $rows) (i32.const 5)))))
        (local.set $from (i32.add (local.get $src) (i32.shl (local.get $q) (i32.const 2))))
        (local.set $r (local.get $rows))
        (loop $copy
          (v128.store (local.get $to) (v128.load (local.get $from)))
          (v128.store offset=16 (local.get $to) (v128.load offset=16 (local.get $from)))
          (local.set $to (i32.add (local.get $to) (i32.const 32)))
          (local.set $from (i32.add (local.get $from) (local.get $srcRow)))
          (br_if $copy (local.tee $r (i32.sub (local.get $r) (i32.const 1)))))
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        (br $strips))))

  ;; The transpose of src (n rows, srcRow bytes apart, by `rows` columns) into column strips at dst
  ;; (gemm's bStrips = rows * 32), its rows q0..q1 only (multiples of 4; n a multiple of 4): dst is
  ;; (rows, n) with [q, j] = src[j, q]. The backward products take theta's parts this way.
  (func $packTransposed (param $dst i32) (param $src i32) (param $srcRow i32) (param $n i32) (param $rows i32)
    (param $q0 i32) (param $q1 i32)
    (local $j i32) (local $q i32) (local $to i32) (local $dstRow i32)
    (block $done
      (loop $columns
        (br_if $done (i32.ge_s (local.get $j) (local.get $n)))
        ;; a strip of 8 columns, or a last one of 4
        (local.set $dstRow (select (i32.const 32) (i32.const 16)
          (i32.le_s (i32.add (i32.and (local.get $j) (i32.const -8)) (i32.const 8)) (local.get $n))))
        (local.set $to (i32.add (i32.add (local.get $dst) (i32.mul (i32.shr_u (local.get $j) (i32.const 3)) (i32.shl (local.get $rows) (i32.const 5))))
          (i32.shl (i32.and (local.get $j) (i32.const 4)) (i32.const 2))))
        (local.set $q (local.get $q0))
        (block $rowsDone
          (loop $rowBlocks
            (br_if $rowsDone (i32.ge_s (local.get $q) (local.get $q1)))
            (call $transpose4x4 (i32.add (local.get $to) (i32.mul (local.get $q) (local.get $dstRow))) (local.get $dstRow)
              (i32.add (i32.add (local.get $src) (i32.mul (local.get $j) (local.get $srcRow))) (i32.shl (local.get $q) (i32.const 2)))
              (local.get $srcRow))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (br $rowBlocks)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $columns))))

  ;; ---------------------------------------------------------------------------------------------
  ;; Gate math. activate: dst = a * sigmoid(a * src) + (1 - a) over `bytes` of floats, with `form`
  ;; the address of its constants: {constants.sigmoid} for a = 1; {constants.tanh} for a = 2, tanh(x) =
  ;; 2 sigmoid(2x) - 1 (exact to about 1e-7 absolute, which is what the gradients need).
  ;; sigmoid(x) = 1 / (1 + exp(-x)) with exp in single precision (Cephes expf: the exponent by
  ;; rounding x/ln2, a degree-6 polynomial on the rest, about 1 ulp). One loop over many independent
  ;; vectors lets the core overlap the exp chains and divisions.
  ;; ---------------------------------------------------------------------------------------------

  ;; The constants of activate, stored at instantiation into the first bytes of memory (every
  ;; thread's instance stores the same bytes). They are loaded into locals before activate's loop:
  ;; written inline, V8 rebuilds every v128 constant inside the loop, three instructions each.
  (global (export "heapBase") i32 (i32.const {heapBase}))
  (func $storeConstants
    (v128.store (i32.const {constants.one}) (v128.const f32x4 1 1 1 1))
    (v128.store (i32.const {constants.hi}) (v128.const f32x4 88.3 88.3 88.3 88.3))
    (v128.store (i32.const {constants.lo}) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3))
    (v128.store (i32.const {constants.log2e}) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))
    (v128.store (i32.const {constants.magic}) (v128.const f32x4 12582912 12582912 12582912 12582912))
    (v128.store (i32.const {constants.ln2hi}) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
    (v128.store (i32.const {constants.ln2lo}) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))
    (v128.store (i32.const {constants.p0}) (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (v128.store (i32.const {constants.p1}) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3))
    (v128.store (i32.const {constants.p2}) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3))
    (v128.store (i32.const {constants.p3}) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2))
    (v128.store (i32.const {constants.p4}) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1))
    (v128.store (i32.const {constants.p5}) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
    (v128.store (i32.const {constants.bias}) (v128.const i32x4 127 127 127 127))
    ;; activate's two forms, (-a, 1 - a, a) each.
    (v128.store (i32.const {constants.sigmoid.scale}) (v128.const f32x4 -1 -1 -1 -1))
    (v128.store (i32.const {constants.sigmoid.shift}) (v128.const f32x4 0 0 0 0))
    (v128.store (i32.const {constants.sigmoid.a}) (v128.const f32x4 1 1 1 1))
    (v128.store (i32.const {constants.tanh.scale}) (v128.const f32x4 -2 -2 -2 -2))
    (v128.store (i32.const {constants.tanh.shift}) (v128.const f32x4 -1 -1 -1 -1))
    (v128.store (i32.const {constants.tanh.a}) (v128.const f32x4 2 2 2 2)))
  (start $storeConstants)

  (func $activate (param $src i32) (param $dst i32) (param $bytes i32) (param $form i32)
    (local $scale v128) (local $shift v128) (local $a v128) (local $end i32)
    (local $one v128) (local $hi v128) (local $lo v128) (local $log2e v128) (local $magic v128)
    (local $ln2hi v128) (local $ln2lo v128) (local $p0 v128) (local $p1 v128) (local $p2 v128)
    (local $p3 v128) (local $p4 v128) (local $p5 v128) (local $bias v128)
    (local $x v128) (local $z v128) (local $n v128) (local $r v128) (local $p v128)
    (local.set $one (v128.load (i32.const {constants.one})))
    (local.set $hi (v128.load (i32.const {constants.hi})))
    (local.set $lo (v128.load (i32.const {constants.lo})))
    (local.set $log2e (v128.load (i32.const {constants.log2e})))
    (local.set $magic (v128.load (i32.const {constants.magic})))
    (local.set $ln2hi (v128.load (i32.const {constants.ln2hi})))
    (local.set $ln2lo (v128.load (i32.const {constants.ln2lo})))
    (local.set $p0 (v128.load (i32.const {constants.p0})))
    (local.set $p1 (v128.load (i32.const {constants.p1})))
    (local.set $p2 (v128.load (i32.const {constants.p2})))
    (local.set $p3 (v128.load (i32.const {constants.p3})))
    (local.set $p4 (v128.load (i32.const {constants.p4})))
    (local.set $p5 (v128.load (i32.const {constants.p5})))
    (local.set $bias (v128.load (i32.const {constants.bias})))
    ;; exp is taken of -a x
    (local.set $scale (v128.load offset={form.scale} (local.get $form)))
    (local.set $shift (v128.load offset={form.shift} (local.get $form)))
    (local.set $a (v128.load offset={form.a} (local.get $form)))
    (local.set $end (i32.add (local.get $src) (local.get $bytes)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        ;; x = -a src clamped to [-87.3, 88.3], so 2^n below stays a normal float.
        (local.set $x (f32x4.pmax
          (f32x4.pmin (f32x4.mul (local.get $scale) (v128.load (local.get $src))) (local.get $hi))
          (local.get $lo)))
        ;; z = x/ln2 + 1.5*2^23 rounds to the nearest integer n, held in z's low mantissa bits.
        (local.set $z (f32x4.add (f32x4.mul (local.get $x) (local.get $log2e)) (local.get $magic)))
        (local.set $n (f32x4.sub (local.get $z) (local.get $magic)))
        ;; r = x - n ln2, with ln2 split in two so the product is exact.
        (local.set $r (f32x4.sub
          (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (local.get $ln2hi)))
          (f32x4.mul (local.get $n) (local.get $ln2lo))))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p0) (local.get $r)) (local.get $p1)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (local.get $p2)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (local.get $p3)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (local.get $p4)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (local.get $p5)))
        (local.set $p (f32x4.add
          (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r)) (local.get $r))
          (local.get $one)))
        ;; exp(x) = p * 2^n: n + 127 shifted into the exponent field (the 1.5*2^23 bits shift out).
        (local.set $p (f32x4.mul (local.get $p)
          (i32x4.shl (i32x4.add (local.get $z) (local.get $bias)) (i32.const 23))))
        ;; a sigmoid(a src) + 1 - a = a / (1 + exp(-a src)) + 1 - a
        (v128.store (local.get $dst) (f32x4.add (local.get $shift)
          (f32x4.div (local.get $a) (f32x4.add (local.get $one) (local.get $p)))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $next))))
  ;; One step of the cell for `rows` rows (at least 1) and `n` units (at least 4; all Hp of them, or
  ;; a thread's range when the threads split the units): gates (rows, G) pre-activations in (rows
  ;; gateRow bytes apart, gate blocks Hp apart), activations f, i, g, o out in place; c = f*cPrev +
  ;; i*g; tanhC = tanh(c); y = o*tanhC, y's rows yRow bytes apart (the next step's z). cPrev, c and
  ;; tanhC are (rows, Hp). The pointers are at the first unit.
  (func $cellForward
    (param $gates i32) (param $gateRow i32) (param $cPrev i32) (param $c i32) (param $tanhC i32)
    (param $y i32) (param $yRow i32) (param $rows i32) (param $hp i32) (param $n i32)
    (local $gs i32) (local $ns i32) (local $q i32) (local $i i32) (local $g i32) (local $o i32)
    (local.set $gs (i32.shl (local.get $hp) (i32.const 2)))
    (local.set $ns (i32.shl (local.get $n) (i32.const 2)))
    (loop $row
      (local.set $i (i32.add (local.get $gates) (local.get $gs)))
      (local.set $g (i32.add (local.get $i) (local.get $gs)))
      (local.set $o (i32.add (local.get $g) (local.get $gs)))
      ;; With all units, f and i are adjacent: one sigmoid over both; then tanh(g), sigmoid(o).
      (if (i32.eq (local.get $n) (local.get $hp))
        (then (call $activate (local.get $gates) (local.get $gates) (i32.shl (local.get $gs) (i32.const 1)) (i32.const {constants.sigmoid})))
        (else
          (call $activate (local.get $gates) (local.get $gates) (local.get $ns) (i32.const {constants.sigmoid}))
          (call $activate (local.get $i) (local.get $i) (local.get $ns) (i32.const {constants.sigmoid}))))
      (call $activate (local.get $g) (local.get $g) (local.get $ns) (i32.const {constants.tanh}))
      (call $activate (local.get $o) (local.get $o) (local.get $ns) (i32.const {constants.sigmoid}))
      (local.set $q (i32.const 0))
      (loop $cell
        (v128.store (i32.add (local.get $c) (local.get $q)) (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $gates) (local.get $q))) (v128.load (i32.add (local.get $cPrev) (local.get $q))))
          (f32x4.mul (v128.load (i32.add (local.get $i) (local.get $q))) (v128.load (i32.add (local.get $g) (local.get $q))))))
        (br_if $cell (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 16))) (local.get $ns))))
      (call $activate (local.get $c) (local.get $tanhC) (local.get $ns) (i32.const {constants.tanh}))
      (local.set $q (i32.const 0))
      (loop $out
        (v128.store (i32.add (local.get $y) (local.get $q))
          (f32x4.mul (v128.load (i32.add (local.get $o) (local.get $q))) (v128.load (i32.add (local.get $tanhC) (local.get $q)))))
        (br_if $out (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 16))) (local.get $ns))))
      (local.set $gates (i32.add (local.get $gates) (local.get $gateRow)))
      (local.set $cPrev (i32.add (local.get $cPrev) (local.get $gs)))
      (local.set $c (i32.add (local.get $c) (local.get $gs)))
      (local.set $tanhC (i32.add (local.get $tanhC) (local.get $gs)))
      (local.set $y (i32.add (local.get $y) (local.get $yRow)))
      (br_if $row (local.tee $rows (i32.sub (local.get $rows) (i32.const 1))))))

  ;; The same step backwards for `rows` rows (at least 1) and `n` units (at least 4): from the
  ;; activations (rows, G), cPrev and tanhC (rows, Hp), the gradient gy (rows, Hp) reaching y and dc
  ;; (rows, Hp) reaching c from the next step, the gate deltas (rows, G) and, in place, the dc passed
  ;; to the previous step. gates and delta rows are gateRow bytes apart; pointers at the first unit.
  (func $cellBackward
    (param $gates i32) (param $gateRow i32) (param $cPrev i32) (param $tanhC i32) (param $gy i32)
    (param $dc i32) (param $delta i32) (param $rows i32) (param $hp i32) (param $n i32)
    (local $gs i32) (local $ns i32) (local $q i32)
    (local $f v128) (local $i v128) (local $g v128) (local $o v128) (local $tc v128) (local $dy v128)
    (local $r v128) (local $one v128)
    (local.set $one (v128.const f32x4 1 1 1 1))
    (local.set $gs (i32.shl (local.get $hp) (i32.const 2)))
    (local.set $ns (i32.shl (local.get $n) (i32.const 2)))
    (loop $row
      (local.set $q (i32.const 0))
      (loop $chunk
        (local.set $f (v128.load (i32.add (local.get $gates) (local.get $q))))
        (local.set $i (v128.load (i32.add (i32.add (local.get $gates) (local.get $gs)) (local.get $q))))
        (local.set $g (v128.load (i32.add (i32.add (local.get $gates) (i32.shl (local.get $gs) (i32.const 1))) (local.get $q))))
        (local.set $o (v128.load (i32.add (i32.add (local.get $gates) (i32.mul (local.get $gs) (i32.const 3))) (local.get $q))))
        (local.set $tc (v128.load (i32.add (local.get $tanhC) (local.get $q))))
        (local.set $dy (v128.load (i32.add (local.get $gy) (local.get $q))))
        ;; r = dc + dy * o * (1 - tanh(c)^2): the gradient reaching c
        (local.set $r (f32x4.add (v128.load (i32.add (local.get $dc) (local.get $q)))
          (f32x4.mul (f32x4.mul (local.get $dy) (local.get $o))
            (f32x4.sub (local.get $one) (f32x4.mul (local.get $tc) (local.get $tc))))))
        (v128.store (i32.add (local.get $delta) (local.get $q))
          (f32x4.mul (f32x4.mul (local.get $r) (v128.load (i32.add (local.get $cPrev) (local.get $q))))
            (f32x4.mul (local.get $f) (f32x4.sub (local.get $one) (local.get $f)))))
        (v128.store (i32.add (i32.add (local.get $delta) (local.get $gs)) (local.get $q))
          (f32x4.mul (f32x4.mul (local.get $r) (local.get $g))
            (f32x4.mul (local.get $i) (f32x4.sub (local.get $one) (local.get $i)))))
        (v128.store (i32.add (i32.add (local.get $delta) (i32.shl (local.get $gs) (i32.const 1))) (local.get $q))
          (f32x4.mul (f32x4.mul (local.get $r) (local.get $i))
            (f32x4.sub (local.get $one) (f32x4.mul (local.get $g) (local.get $g)))))
        (v128.store (i32.add (i32.add (local.get $delta) (i32.mul (local.get $gs) (i32.const 3))) (local.get $q))
          (f32x4.mul (f32x4.mul (local.get $dy) (local.get $tc))
            (f32x4.mul (local.get $o) (f32x4.sub (local.get $one) (local.get $o)))))
        (v128.store (i32.add (local.get $dc) (local.get $q)) (f32x4.mul (local.get $r) (local.get $f)))
        (br_if $chunk (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 16))) (local.get $ns))))
      (local.set $gates (i32.add (local.get $gates) (local.get $gateRow)))
      (local.set $delta (i32.add (local.get $delta) (local.get $gateRow)))
      (local.set $cPrev (i32.add (local.get $cPrev) (local.get $gs)))
      (local.set $tanhC (i32.add (local.get $tanhC) (local.get $gs)))
      (local.set $gy (i32.add (local.get $gy) (local.get $gs)))
      (local.set $dc (i32.add (local.get $dc) (local.get $gs)))
      (br_if $row (local.tee $rows (i32.sub (local.get $rows) (i32.const 1))))))

  ;; A layer's input rows from the layer below's outputs: `rows` rows of `bytes` (the below layer's
  ;; Hp floats) from src (srcRow apart) into dst (dstRow apart), each followed by (1, 0, 0, 0): the
  ;; bias input and the padding up to yAt.
  (func $inputRows (param $dst i32) (param $dstRow i32) (param $src i32) (param $srcRow i32)
    (param $rows i32) (param $bytes i32)
    (local $q i32)
    (loop $row
      (local.set $q (i32.const 0))
      (loop $copy
        (v128.store (i32.add (local.get $dst) (local.get $q)) (v128.load (i32.add (local.get $src) (local.get $q))))
        (br_if $copy (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 16))) (local.get $bytes))))
      (v128.store (i32.add (local.get $dst) (local.get $bytes)) (v128.const f32x4 1 0 0 0))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstRow)))
      (local.set $src (i32.add (local.get $src) (local.get $srcRow)))
      (br_if $row (local.tee $rows (i32.sub (local.get $rows) (i32.const 1))))))

  ;; ---------------------------------------------------------------------------------------------
  ;; Optimiser updates over `count` floats (a multiple of 4) of the padded parameters, gradients and
  ;; state; the math is src/model/optimizer.ts's, in single precision. `scale` is the global-norm
  ;; clipping factor (1 when clipping is off); the padding's gradients are 0, so its state and
  ;; parameters stay 0.
  ;; ---------------------------------------------------------------------------------------------

  ;; SGD, the blog's: p -= learningRate * grad (fastLstm.ts folds the clipping scale into the rate).
  (func $sgd (param $params i32) (param $grads i32) (param $count i32) (param $learningRate f32)
    (local $lr v128) (local $end i32)
    (local.set $lr (f32x4.splat (local.get $learningRate)))
    (local.set $end (i32.add (local.get $params) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $params) (local.get $end)))
        (v128.store (local.get $params) (f32x4.sub (v128.load (local.get $params))
          (f32x4.mul (local.get $lr) (v128.load (local.get $grads)))))
        (local.set $params (i32.add (local.get $params) (i32.const 16)))
        (local.set $grads (i32.add (local.get $grads) (i32.const 16)))
        (br $next))))

  ;; Momentum: velocity = momentum * velocity + scale * grad;  p -= learningRate * velocity.
  (func $momentum
    (param $params i32) (param $grads i32) (param $velocity i32) (param $count i32)
    (param $learningRate f32) (param $momentum f32) (param $scale f32)
    (local $lr v128) (local $mu v128) (local $s v128) (local $v v128) (local $end i32)
    (local.set $lr (f32x4.splat (local.get $learningRate)))
    (local.set $mu (f32x4.splat (local.get $momentum)))
    (local.set $s (f32x4.splat (local.get $scale)))
    (local.set $end (i32.add (local.get $params) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $params) (local.get $end)))
        (local.set $v (f32x4.add (f32x4.mul (local.get $mu) (v128.load (local.get $velocity)))
          (f32x4.mul (local.get $s) (v128.load (local.get $grads)))))
        (v128.store (local.get $velocity) (local.get $v))
        (v128.store (local.get $params) (f32x4.sub (v128.load (local.get $params))
          (f32x4.mul (local.get $lr) (local.get $v))))
        (local.set $params (i32.add (local.get $params) (i32.const 16)))
        (local.set $grads (i32.add (local.get $grads) (i32.const 16)))
        (local.set $velocity (i32.add (local.get $velocity) (i32.const 16)))
        (br $next))))

  ;; Adam: g = scale * grad;  m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;
  ;; p -= (learningRate * (m / c1)) / (sqrt(v / c2) + epsilon), where the caller passes the bias
  ;; corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t and the complements 1 - beta (taken in double
  ;; precision, as the reference does).
  (func $adam
    (param $params i32) (param $grads i32) (param $m i32) (param $v i32) (param $count i32)
    (param $learningRate f32) (param $beta1 f32) (param $oneMinusBeta1 f32) (param $beta2 f32)
    (param $oneMinusBeta2 f32) (param $epsilon f32) (param $c1 f32) (param $c2 f32) (param $scale f32)
    (local $lr v128) (local $b1 v128) (local $a1 v128) (local $b2 v128) (local $a2 v128) (local $eps v128)
    (local $bc1 v128) (local $bc2 v128) (local $s v128)
    (local $g v128) (local $mv v128) (local $vv v128) (local $end i32)
    (local.set $lr (f32x4.splat (local.get $learningRate)))
    (local.set $b1 (f32x4.splat (local.get $beta1)))
    (local.set $a1 (f32x4.splat (local.get $oneMinusBeta1)))
    (local.set $b2 (f32x4.splat (local.get $beta2)))
    (local.set $a2 (f32x4.splat (local.get $oneMinusBeta2)))
    (local.set $eps (f32x4.splat (local.get $epsilon)))
    (local.set $bc1 (f32x4.splat (local.get $c1)))
    (local.set $bc2 (f32x4.splat (local.get $c2)))
    (local.set $s (f32x4.splat (local.get $scale)))
    (local.set $end (i32.add (local.get $params) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $params) (local.get $end)))
        (local.set $g (f32x4.mul (local.get $s) (v128.load (local.get $grads))))
        (local.set $mv (f32x4.add (f32x4.mul (local.get $b1) (v128.load (local.get $m)))
          (f32x4.mul (local.get $a1) (local.get $g))))
        (local.set $vv (f32x4.add (f32x4.mul (local.get $b2) (v128.load (local.get $v)))
          (f32x4.mul (local.get $a2) (f32x4.mul (local.get $g) (local.get $g)))))
        (v128.store (local.get $m) (local.get $mv))
        (v128.store (local.get $v) (local.get $vv))
        (v128.store (local.get $params) (f32x4.sub (v128.load (local.get $params))
          (f32x4.div (f32x4.mul (local.get $lr) (f32x4.div (local.get $mv) (local.get $bc1)))
            (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $bc2))) (local.get $eps)))))
        (local.set $params (i32.add (local.get $params) (i32.const 16)))
        (local.set $grads (i32.add (local.get $grads) (i32.const 16)))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $v (i32.add (local.get $v) (i32.const 16)))
        (br $next))))
  ;; ---------------------------------------------------------------------------------------------
  ;; Drivers: one thread's share of a forward pass, a backward pass or an update, for the model
  ;; and batch described in the control and model blocks.
  ;; ---------------------------------------------------------------------------------------------

  ;; The first of `count` items that thread `index` takes: the threads before it take shares in
  ;; proportion to their weights ({shareWeights}), rounded to whole `grain`s (a power of two), so that columns
  ;; go in whole strips.
  (func $shareStart (param $index i32) (param $count i32) (param $grain i32) (result i32)
    (local $threads i32) (local $i i32) (local $weight f64) (local $before f64) (local $total f64) (local $start i32)
    (local.set $threads (i32.load (i32.const {control.threads})))
    (if (i32.ge_u (local.get $index) (local.get $threads)) (then (return (local.get $count))))
    (loop $weights
      (local.set $weight (f64.promote_f32 (f32.load offset={shareWeights} (i32.shl (local.get $i) (i32.const 2)))))
      (if (i32.lt_u (local.get $i) (local.get $index))
        (then (local.set $before (f64.add (local.get $before) (local.get $weight)))))
      (local.set $total (f64.add (local.get $total) (local.get $weight)))
      (br_if $weights (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $threads))))
    (local.set $start (i32.mul (local.get $grain)
      (i32.trunc_f64_u (f64.nearest (f64.div (f64.mul (f64.convert_i32_u (local.get $count)) (local.get $before))
        (f64.mul (local.get $total) (f64.convert_i32_u (local.get $grain))))))))
    (select (local.get $count) (local.get $start) (i32.gt_s (local.get $start) (local.get $count))))

  ;; Rows in the chunk that starts at row `start`. One thread takes all that is left. Several take
  ;; first one big chunk each, together 7/8 of the batch in whole tiles of 4 rows, then the rest a tile
  ;; at a time. A chunk reads all the weights once a step, and two threads reading them over and over
  ;; slow each other down (small chunks throughout cost more a row than one big chunk each); the
  ;; small tail lets a thread its core holds back take less, so the threads end together.
  (func $chunkAt (param $B i32) (param $start i32) (result i32)
    (local $threads i32) (local $left i32) (local $big i32) (local $rows i32)
    (local.set $left (i32.sub (local.get $B) (local.get $start)))
    (local.set $threads (i32.load (i32.const {control.threads})))
    (if (i32.le_u (local.get $threads) (i32.const 1)) (then (return (local.get $left))))
    ;; big = 7/8 B / threads, whole tiles
    (local.set $big (i32.and (i32.div_u (i32.shr_u (i32.mul (local.get $B) (i32.const 7)) (i32.const 3))
      (local.get $threads)) (i32.const -4)))
    (local.set $rows (select (local.get $big) (i32.const 4)
      (i32.lt_u (local.get $start) (i32.mul (local.get $big) (local.get $threads)))))
    (select (local.get $rows) (local.get $left) (i32.lt_u (local.get $rows) (local.get $left))))

  ;; Claims the next chunk of rows from the counter at `counter` (the first row not yet claimed) and
  ;; returns its first row ($chunkAt gives its size), or B once none is left.
  (func $claim (param $counter i32) (param $B i32) (result i32)
    (local $start i32)
    (loop $retry
      (local.set $start (i32.atomic.load (local.get $counter)))
      (if (i32.ge_u (local.get $start) (local.get $B)) (then (return (local.get $B))))
      (br_if $retry (i32.ne (local.get $start)
        (i32.atomic.rmw.cmpxchg (local.get $counter) (local.get $start)
          (i32.add (local.get $start) (call $chunkAt (local.get $B) (local.get $start)))))))
    (local.get $start))

  ;; Records thread `index`'s busy time since `start` (from $now) on `rows` rows, where threads share the work.
  (func $recordBusy (param $index i32) (param $start f64) (param $rows i32)
    (if (i32.le_u (i32.load (i32.const {control.threads})) (i32.const 1)) (then (return)))
    (f64.store offset={busy} (i32.shl (local.get $index) (i32.const 3)) (f64.sub (call $now) (local.get $start)))
    (i32.store offset={busyRows} (i32.shl (local.get $index) (i32.const 2)) (local.get $rows)))

  ;; $now where threads share the work (the busy times are only read then), else 0.
  (func $startClock (result f64)
    (if (result f64) (i32.gt_u (i32.load (i32.const {control.threads})) (i32.const 1)) (then (call $now)) (else (f64.const 0))))

  ;; Thread `index`'s scratch for packing A.
  (func $packedOf (param $index i32) (result i32)
    (i32.add (i32.load (i32.const {model.packed})) (i32.mul (local.get $index) (i32.load (i32.const {model.packedBytes})))))

  ;; Forward: every layer, every step, of each chunk of rows this thread claims; returns how many rows
  ;; it took. A layer above reads the same rows of the layer below, so the threads never wait for each
  ;; other here.
  (func $forwardShare (param $index i32) (result i32)
    (local $B i32) (local $T i32) (local $b0 i32) (local $rows i32) (local $packed i32)
    (local $done i32)
    (local $layer i32) (local $last i32) (local $t i32) (local $hasBelow i32)
    (local $hp i32) (local $yAt i32) (local $kp i32) (local $zRow i32) (local $gateRow i32) (local $thetaS i32)
    (local $z i32) (local $gates i32) (local $c i32) (local $tanhC i32)
    (local $zStep i32) (local $gateStep i32) (local $hStep i32)
    (local $belowY i32) (local $belowRow i32) (local $belowStep i32)
    (local.set $B (i32.load (i32.const {control.batch})))
    (local.set $T (i32.load (i32.const {model.window})))
    (local.set $packed (call $packedOf (local.get $index)))
    (block $claimed (loop $claims
      (local.set $b0 (call $claim (i32.const {control.forwardNextRow}) (local.get $B)))
      (br_if $claimed (i32.ge_u (local.get $b0) (local.get $B)))
      (local.set $rows (call $chunkAt (local.get $B) (local.get $b0)))
      (local.set $done (i32.add (local.get $done) (local.get $rows)))
      (local.set $hasBelow (i32.const 0))
      (local.set $layer (i32.load (i32.const {model.layers})))
      (local.set $last (i32.add (local.get $layer) (i32.shl (i32.sub (i32.load (i32.const {model.layerCount})) (i32.const 1)) (i32.const {layerEntry.shift}))))
      (loop $layers
        (local.set $hp (i32.load offset={layer.paddedHidden} (local.get $layer)))
        (local.set $yAt (i32.load offset={layer.yAt} (local.get $layer)))
        (local.set $kp (i32.load offset={layer.zWidth} (local.get $layer)))
        (local.set $zRow (i32.load offset={layer.zRow} (local.get $layer)))
        (local.set $gateRow (i32.load offset={layer.gateRow} (local.get $layer)))
        ;; theta in column strips ($packShare)
        (local.set $thetaS (i32.load offset={layer.thetaS} (local.get $layer)))
        (local.set $zStep (i32.mul (local.get $B) (local.get $zRow)))
        (local.set $gateStep (i32.mul (local.get $B) (local.get $gateRow)))
        (local.set $hStep (i32.mul (local.get $B) (i32.shl (local.get $hp) (i32.const 2))))
        ;; This thread's first row at step 0 of each buffer; they move on by a step's bytes.
        (local.set $z (i32.add (i32.load offset={layer.z} (local.get $layer)) (i32.mul (local.get $b0) (local.get $zRow))))
        (local.set $gates (i32.add (i32.load offset={layer.gates} (local.get $layer)) (i32.mul (local.get $b0) (local.get $gateRow))))
        (local.set $c (i32.add (i32.load offset={layer.c} (local.get $layer)) (i32.mul (local.get $b0) (i32.shl (local.get $hp) (i32.const 2)))))
        (local.set $tanhC (i32.add (i32.load offset={layer.tanhC} (local.get $layer)) (i32.mul (local.get $b0) (i32.shl (local.get $hp) (i32.const 2)))))
        ;; c_0 = 0 (with another batch size, an earlier call's later steps may lie here)
        (memory.fill (local.get $c) (i32.const 0) (i32.mul (local.get $rows) (i32.shl (local.get $hp) (i32.const 2))))
        (local.set $t (i32.const 0))
        (loop $steps
          (if (local.get $hasBelow)
            (then
              (call $inputRows (local.get $z) (local.get $zRow) (local.get $belowY) (local.get $belowRow)
                (local.get $rows) (i32.shl (i32.load offset={layer.inputWidth} (local.get $layer)) (i32.const 2)))
              (local.set $belowY (i32.add (local.get $belowY) (local.get $belowStep)))))
          ;; u_t = [x_t, 1, y_{t-1}] theta; y_{-1} = 0, so step 0 stops at yAt.
          (call $gemm (local.get $gates) (local.get $gateRow) (local.get $z) (local.get $zRow) (i32.const 4)
            (local.get $thetaS) (i32.const 0) (i32.shl (local.get $kp) (i32.const 5)) (local.get $rows) (i32.shl (local.get $hp) (i32.const 2))
            (select (local.get $kp) (local.get $yAt) (local.get $t)) (i32.const 0) (local.get $packed))
          (call $cellForward (local.get $gates) (local.get $gateRow) (local.get $c) (i32.add (local.get $c) (local.get $hStep))
            (local.get $tanhC) (i32.add (i32.add (local.get $z) (local.get $zStep)) (i32.shl (local.get $yAt) (i32.const 2)))
            (local.get $zRow) (local.get $rows) (local.get $hp) (local.get $hp))
          (local.set $z (i32.add (local.get $z) (local.get $zStep)))
          (local.set $gates (i32.add (local.get $gates) (local.get $gateStep)))
          (local.set $c (i32.add (local.get $c) (local.get $hStep)))
          (local.set $tanhC (i32.add (local.get $tanhC) (local.get $hStep)))
          (br_if $steps (i32.lt_s (local.tee $t (i32.add (local.get $t) (i32.const 1))) (local.get $T))))
        ;; The layer above takes y_t from this layer's z at steps 1..T.
        (local.set $belowY (i32.add (i32.add (i32.load offset={layer.z} (local.get $layer)) (local.get $zStep))
          (i32.add (i32.mul (local.get $b0) (local.get $zRow)) (i32.shl (local.get $yAt) (i32.const 2)))))
        (local.set $belowRow (local.get $zRow))
        (local.set $belowStep (local.get $zStep))
        (local.set $hasBelow (i32.const 1))
        (br_if $layers (i32.le_u (local.tee $layer (i32.add (local.get $layer) (i32.const {layerEntry.bytes}))) (local.get $last))))
      (br $claims)))
    (local.get $done))

  ;; A barrier, timed: returns the milliseconds this thread waited there.
  (func $barrierTimed (result f64)
    (local $start f64)
    (local.set $start (call $now))
    (call $barrier)
    (f64.sub (call $now) (local.get $start)))

  ;; Forward with the units split (fastLstm.ts chooses it for large layers, where each thread reading
  ;; all of theta a step for its own rows would cost more than a barrier a step): every thread takes
  ;; all the rows and its range of units (multiples of 8; Hp a multiple of 8) and so reads only its
  ;; columns of theta; a barrier after each step publishes y_t. Records its busy time since `start`,
  ;; less its waits at the barriers, on the units it took.
  (func $forwardUnits (param $index i32) (param $start f64)
    (local $B i32) (local $T i32) (local $packed i32) (local $done i32)
    (local $layer i32) (local $last i32) (local $t i32) (local $gate i32) (local $hasBelow i32)
    (local $hp i32) (local $yAt i32) (local $kp i32) (local $zRow i32) (local $gateRow i32) (local $thetaS i32)
    (local $j0 i32) (local $n i32) (local $r0 i32) (local $rows i32)
    (local $z i32) (local $gates i32) (local $c i32) (local $tanhC i32) (local $row i32)
    (local $zStep i32) (local $gateStep i32) (local $hStep i32)
    (local $belowZ i32) (local $belowZRow i32) (local $belowYAt i32)
    (local.set $B (i32.load (i32.const {control.batch})))
    (local.set $T (i32.load (i32.const {model.window})))
    (local.set $packed (call $packedOf (local.get $index)))
    (local.set $layer (i32.load (i32.const {model.layers})))
    (local.set $last (i32.add (local.get $layer) (i32.shl (i32.sub (i32.load (i32.const {model.layerCount})) (i32.const 1)) (i32.const {layerEntry.shift}))))
    (loop $layers
      (local.set $hp (i32.load offset={layer.paddedHidden} (local.get $layer)))
      (local.set $yAt (i32.load offset={layer.yAt} (local.get $layer)))
      (local.set $kp (i32.load offset={layer.zWidth} (local.get $layer)))
      (local.set $zRow (i32.load offset={layer.zRow} (local.get $layer)))
      (local.set $gateRow (i32.load offset={layer.gateRow} (local.get $layer)))
      (local.set $thetaS (i32.load offset={layer.thetaS} (local.get $layer)))
      (local.set $zStep (i32.mul (local.get $B) (local.get $zRow)))
      (local.set $gateStep (i32.mul (local.get $B) (local.get $gateRow)))
      (local.set $hStep (i32.mul (local.get $B) (i32.shl (local.get $hp) (i32.const 2))))
      (local.set $j0 (call $shareStart (local.get $index) (local.get $hp) (i32.const 8)))
      (local.set $n (i32.sub (call $shareStart (i32.add (local.get $index) (i32.const 1)) (local.get $hp) (i32.const 8))
        (local.get $j0)))
      (local.set $done (i32.add (local.get $done) (local.get $n)))
      (local.set $z (i32.load offset={layer.z} (local.get $layer)))
      (local.set $gates (i32.add (i32.load offset={layer.gates} (local.get $layer)) (i32.shl (local.get $j0) (i32.const 2))))
      (local.set $c (i32.add (i32.load offset={layer.c} (local.get $layer)) (i32.shl (local.get $j0) (i32.const 2))))
      (local.set $tanhC (i32.add (i32.load offset={layer.tanhC} (local.get $layer)) (i32.shl (local.get $j0) (i32.const 2))))
      ;; c_0 = 0 in this thread's units
      (if (local.get $n)
        (then
          (local.set $row (i32.const 0))
          (loop $zero
            (memory.fill (i32.add (local.get $c) (i32.mul (local.get $row) (i32.shl (local.get $hp) (i32.const 2))))
              (i32.const 0) (i32.shl (local.get $n) (i32.const 2)))
            (br_if $zero (i32.lt_u (local.tee $row (i32.add (local.get $row) (i32.const 1))) (local.get $B))))))
      (if (local.get $hasBelow)
        (then
          ;; Every step's inputs from the layer below, this thread's share of the rows, then a barrier.
          (local.set $r0 (call $shareStart (local.get $index) (local.get $B) (i32.const 1)))
          (local.set $rows (i32.sub (call $shareStart (i32.add (local.get $index) (i32.const 1)) (local.get $B) (i32.const 1))
            (local.get $r0)))
          (if (local.get $rows)
            (then
              (local.set $t (i32.const 0))
              (loop $inputs
                (call $inputRows
                  (i32.add (i32.add (local.get $z) (i32.mul (local.get $t) (local.get $zStep))) (i32.mul (local.get $r0) (local.get $zRow)))
                  (local.get $zRow)
                  (i32.add (i32.add (local.get $belowZ) (i32.mul (i32.add (local.get $t) (i32.const 1)) (i32.mul (local.get $B) (local.get $belowZRow))))
                    (i32.add (i32.mul (local.get $r0) (local.get $belowZRow)) (i32.shl (local.get $belowYAt) (i32.const 2))))
                  (local.get $belowZRow) (local.get $rows) (i32.shl (i32.load offset={layer.inputWidth} (local.get $layer)) (i32.const 2)))
                (br_if $inputs (i32.lt_s (local.tee $t (i32.add (local.get $t) (i32.const 1))) (local.get $T))))))
          (local.set $start (f64.add (local.get $start) (call $barrierTimed)))))
      (local.set $t (i32.const 0))
      (loop $steps
        (if (local.get $n)
          (then
            ;; u_t = [x_t, 1, y_{t-1}] theta in this thread's columns of each gate; y_{-1} = 0, so step 0 stops at yAt.
            (local.set $gate (i32.const 0))
            (loop $gateBlocks
              (call $gemm (i32.add (local.get $gates) (i32.shl (i32.mul (local.get $gate) (local.get $hp)) (i32.const 2)))
                (local.get $gateRow) (local.get $z) (local.get $zRow) (i32.const 4)
                (i32.add (local.get $thetaS) (i32.mul (i32.shr_u (i32.add (i32.mul (local.get $gate) (local.get $hp)) (local.get $j0)) (i32.const 3))
                  (i32.shl (local.get $kp) (i32.const 5))))
                (i32.const 0) (i32.shl (local.get $kp) (i32.const 5)) (local.get $B) (local.get $n)
                (select (local.get $kp) (local.get $yAt) (local.get $t)) (i32.const 0) (local.get $packed))
              (br_if $gateBlocks (i32.lt_u (local.tee $gate (i32.add (local.get $gate) (i32.const 1))) (i32.const 4))))
            (call $cellForward (local.get $gates) (local.get $gateRow) (local.get $c) (i32.add (local.get $c) (local.get $hStep))
              (local.get $tanhC)
              (i32.add (i32.add (local.get $z) (local.get $zStep)) (i32.shl (i32.add (local.get $yAt) (local.get $j0)) (i32.const 2)))
              (local.get $zRow) (local.get $B) (local.get $hp) (local.get $n))))
        (local.set $start (f64.add (local.get $start) (call $barrierTimed)))
        (local.set $z (i32.add (local.get $z) (local.get $zStep)))
        (local.set $gates (i32.add (local.get $gates) (local.get $gateStep)))
        (local.set $c (i32.add (local.get $c) (local.get $hStep)))
        (local.set $tanhC (i32.add (local.get $tanhC) (local.get $hStep)))
        (br_if $steps (i32.lt_s (local.tee $t (i32.add (local.get $t) (i32.const 1))) (local.get $T))))
      ;; The layer above takes y_t from this layer's z at steps 1..T.
      (local.set $belowZ (i32.load offset={layer.z} (local.get $layer)))
      (local.set $belowZRow (local.get $zRow))
      (local.set $belowYAt (local.get $yAt))
      (local.set $hasBelow (i32.const 1))
      (br_if $layers (i32.le_u (local.tee $layer (i32.add (local.get $layer) (i32.const {layerEntry.bytes}))) (local.get $last))))
    (call $recordBusy (local.get $index) (local.get $start) (local.get $done)))

  ;; The backward recurrences with the units split ($forwardUnits): for each layer, top first, and
  ;; each step back, this thread's units of the cell for every row, a barrier (every δ_t written),
  ;; then its columns of gy_{t-1} = δ_t V^T; after a layer's last step, its columns of the layer
  ;; below's gy_t = δ_t W^T (the same split of the same units, so the layer below reads only what this
  ;; thread wrote). Records its busy time less its waits, as $forwardUnits.
  (func $backwardUnits (param $index i32) (param $start f64)
    (local $B i32) (local $T i32) (local $packed i32) (local $done i32)
    (local $first i32) (local $layer i32) (local $top i32) (local $t i32) (local $row i32)
    (local $hp i32) (local $g i32) (local $ip i32) (local $gateRow i32) (local $thetaT i32)
    (local $j0 i32) (local $n i32) (local $k0 i32) (local $kn i32)
    (local $gates i32) (local $delta i32) (local $c i32) (local $tanhC i32) (local $gy i32) (local $dc i32)
    (local $gateStep i32) (local $hStep i32) (local $belowGy i32) (local $belowStep i32)
    (local.set $B (i32.load (i32.const {control.batch})))
    (local.set $T (i32.load (i32.const {model.window})))
    (local.set $packed (call $packedOf (local.get $index)))
    (local.set $first (i32.load (i32.const {model.layers})))
    (local.set $top (i32.add (local.get $first) (i32.shl (i32.sub (i32.load (i32.const {model.layerCount})) (i32.const 1)) (i32.const {layerEntry.shift}))))
    (local.set $layer (local.get $top))
    (loop $layers
      (local.set $ip (i32.load offset={layer.inputWidth} (local.get $layer)))
      (local.set $hp (i32.load offset={layer.paddedHidden} (local.get $layer)))
      (local.set $g (i32.shl (local.get $hp) (i32.const 2)))
      (local.set $gateRow (i32.load offset={layer.gateRow} (local.get $layer)))
      (local.set $thetaT (i32.load offset={layer.thetaT} (local.get $layer)))
      (local.set $gateStep (i32.mul (local.get $B) (local.get $gateRow)))
      (local.set $hStep (i32.mul (local.get $B) (i32.shl (local.get $hp) (i32.const 2))))
      (local.set $j0 (call $shareStart (local.get $index) (local.get $hp) (i32.const 8)))
      (local.set $n (i32.sub (call $shareStart (i32.add (local.get $index) (i32.const 1)) (local.get $hp) (i32.const 8))
        (local.get $j0)))
      (local.set $done (i32.add (local.get $done) (local.get $n)))
      ;; Step T-1, row 0, this thread's first unit.
      (local.set $gates (i32.add (i32.load offset={layer.gates} (local.get $layer))
        (i32.add (i32.mul (i32.sub (local.get $T) (i32.const 1)) (local.get $gateStep)) (i32.shl (local.get $j0) (i32.const 2)))))
      (local.set $delta (i32.add (i32.load offset={layer.delta} (local.get $layer))
        (i32.add (i32.mul (i32.sub (local.get $T) (i32.const 1)) (local.get $gateStep)) (i32.shl (local.get $j0) (i32.const 2)))))
      (local.set $c (i32.add (i32.load offset={layer.c} (local.get $layer))
        (i32.add (i32.mul (i32.sub (local.get $T) (i32.const 1)) (local.get $hStep)) (i32.shl (local.get $j0) (i32.const 2)))))
      (local.set $tanhC (i32.add (i32.load offset={layer.tanhC} (local.get $layer))
        (i32.add (i32.mul (i32.sub (local.get $T) (i32.const 1)) (local.get $hStep)) (i32.shl (local.get $j0) (i32.const 2)))))
      (local.set $gy (i32.add (i32.load offset={layer.gy} (local.get $layer))
        (i32.add (i32.mul (i32.sub (local.get $T) (i32.const 1)) (local.get $hStep)) (i32.shl (local.get $j0) (i32.const 2)))))
      ;; dc (B, Hp) rows Hp apart, this thread's units zeroed.
      (local.set $dc (i32.add (i32.load (i32.const {model.dc})) (i32.shl (local.get $j0) (i32.const 2))))
      (if (local.get $n)
        (then
          (local.set $row (i32.const 0))
          (loop $zero
            (memory.fill (i32.add (local.get $dc) (i32.mul (local.get $row) (i32.shl (local.get $hp) (i32.const 2))))
              (i32.const 0) (i32.shl (local.get $n) (i32.const 2)))
            (br_if $zero (i32.lt_u (local.tee $row (i32.add (local.get $row) (i32.const 1))) (local.get $B))))))
      (local.set $t (i32.sub (local.get $T) (i32.const 1)))
      (loop $steps
        (if (local.get $n)
          (then
            (call $cellBackward (local.get $gates) (local.get $gateRow) (local.get $c) (local.get $tanhC) (local.get $gy)
              (local.get $dc) (local.get $delta) (local.get $B) (local.get $hp) (local.get $n))))
        (local.set $start (f64.add (local.get $start) (call $barrierTimed)))
        ;; gy_{t-1} [+]= δ_t V^T in this thread's units (the top layer's gy holds only the dense
        ;; layer's gradient at T-1; a lower layer's already holds the layer above's).
        (if (i32.and (i32.ne (local.get $t) (i32.const 0)) (i32.ne (local.get $n) (i32.const 0)))
          (then
            (call $gemm (i32.sub (local.get $gy) (local.get $hStep)) (i32.shl (local.get $hp) (i32.const 2))
              (i32.sub (local.get $delta) (i32.shl (local.get $j0) (i32.const 2))) (local.get $gateRow) (i32.const 4)
              (i32.add (local.get $thetaT) (i32.mul (i32.shr_u (local.get $j0) (i32.const 3)) (i32.shl (local.get $g) (i32.const 5))))
              (i32.const 0) (i32.shl (local.get $g) (i32.const 5))
              (local.get $B) (local.get $n) (local.get $g) (i32.ne (local.get $layer) (local.get $top)) (local.get $packed))))
        (local.set $gates (i32.sub (local.get $gates) (local.get $gateStep)))
        (local.set $delta (i32.sub (local.get $delta) (local.get $gateStep)))
        (local.set $c (i32.sub (local.get $c) (local.get $hStep)))
        (local.set $tanhC (i32.sub (local.get $tanhC) (local.get $hStep)))
        (local.set $gy (i32.sub (local.get $gy) (local.get $hStep)))
        (br_if $steps (i32.ge_s (local.tee $t (i32.sub (local.get $t) (i32.const 1))) (i32.const 0))))
      (if (i32.ne (local.get $layer) (local.get $first))
        (then
          ;; The layer below's gy_t = δ_t W^T at every step, in this thread's units of that layer.
          (local.set $k0 (call $shareStart (local.get $index) (local.get $ip) (i32.const 8)))
          (local.set $kn (i32.sub (call $shareStart (i32.add (local.get $index) (i32.const 1)) (local.get $ip) (i32.const 8))
            (local.get $k0)))
          (if (local.get $kn)
            (then
              (local.set $delta (i32.load offset={layer.delta} (local.get $layer)))
              (local.set $belowStep (i32.mul (local.get $B) (i32.shl (local.get $ip) (i32.const 2))))
              (local.set $belowGy (i32.add (i32.load offset={layer.gy} (i32.sub (local.get $layer) (i32.const {layerEntry.bytes})))
                (i32.shl (local.get $k0) (i32.const 2))))
              (local.set $t (i32.const 0))
              (loop $below
                (call $gemm (local.get $belowGy) (i32.shl (local.get $ip) (i32.const 2))
                  (local.get $delta) (local.get $gateRow) (i32.const 4)
                  (i32.add (i32.add (local.get $thetaT) (i32.shl (i32.mul (local.get $g) (local.get $hp)) (i32.const 2)))
                    (i32.mul (i32.shr_u (local.get $k0) (i32.const 3)) (i32.shl (local.get $g) (i32.const 5))))
                  (i32.const 0) (i32.shl (local.get $g) (i32.const 5))
                  (local.get $B) (local.get $kn) (local.get $g) (i32.const 0) (local.get $packed))
                (local.set $belowGy (i32.add (local.get $belowGy) (local.get $belowStep)))
                (local.set $delta (i32.add (local.get $delta) (local.get $gateStep)))
                (br_if $below (i32.lt_s (local.tee $t (i32.add (local.get $t) (i32.const 1))) (local.get $T))))))))
      (br_if $layers (i32.ge_u (local.tee $layer (i32.sub (local.get $layer) (i32.const {layerEntry.bytes}))) (local.get $first))))
    (call $recordBusy (local.get $index) (local.get $start) (local.get $done)))

  ;; Backward: thetaT (gate columns split), barrier, the recurrences on each chunk of rows this thread
  ;; claims (top layer first; no barrier between steps or layers), barrier, the weight gradients (gate
  ;; columns split). The caller has put the dense layer's gradient into the top layer's gy at step T-1.
  (func $backwardShare (param $index i32)
    (local $B i32) (local $T i32) (local $b0 i32) (local $rows i32) (local $packed i32)
    (local $done i32)
    (local $first i32) (local $top i32) (local $layer i32) (local $t i32)
    (local $hp i32) (local $g i32) (local $ip i32) (local $yAt i32) (local $kp i32) (local $zRow i32) (local $gateRow i32)
    (local $thetaT i32) (local $gates i32) (local $delta i32) (local $c i32) (local $tanhC i32) (local $gy i32)
    (local $dc i32) (local $zStep i32) (local $gateStep i32) (local $hStep i32)
    (local $q0 i32) (local $q1 i32) (local $grad i32) (local $belowGy i32) (local $belowStep i32)
    (local $theta i32) (local $clock f64)
    (local.set $B (i32.load (i32.const {control.batch})))
    (local.set $T (i32.load (i32.const {model.window})))
    (local.set $packed (call $packedOf (local.get $index)))
    (local.set $first (i32.load (i32.const {model.layers})))
    (local.set $top (i32.add (local.get $first) (i32.shl (i32.sub (i32.load (i32.const {model.layerCount})) (i32.const 1)) (i32.const {layerEntry.shift}))))

    (local.set $layer (local.get $first))
    (loop $transposes
      ;; thetaT: V^T (G, Hp) in column strips, then W^T (G, Ip) where a layer below takes its gradient.
      (local.set $hp (i32.load offset={layer.paddedHidden} (local.get $layer)))
      (local.set $g (i32.shl (local.get $hp) (i32.const 2)))
      (local.set $thetaT (i32.load offset={layer.thetaT} (local.get $layer)))
      (local.set $theta (i32.add (i32.load (i32.const {model.params})) (i32.load offset={layer.theta} (local.get $layer))))
      (local.set $gateRow (i32.load offset={layer.gateRow} (local.get $layer)))
      (local.set $q0 (call $shareStart (local.get $index) (local.get $g) (i32.const 16)))
      (local.set $q1 (call $shareStart (i32.add (local.get $index) (i32.const 1)) (local.get $g) (i32.const 16)))
      (call $packTransposed (local.get $thetaT)
        (i32.add (local.get $theta) (i32.mul (i32.load offset={layer.yAt} (local.get $layer)) (local.get $gateRow))) (local.get $gateRow)
        (local.get $hp) (local.get $g) (local.get $q0) (local.get $q1))
      (if (i32.ne (local.get $layer) (local.get $first))
        (then
          (call $packTransposed (i32.add (local.get $thetaT) (i32.shl (i32.mul (local.get $g) (local.get $hp)) (i32.const 2)))
            (local.get $theta) (local.get $gateRow) (i32.load offset={layer.inputWidth} (local.get $layer)) (local.get $g) (local.get $q0) (local.get $q1))))
      (br_if $transposes (i32.le_u (local.tee $layer (i32.add (local.get $layer) (i32.const {layerEntry.bytes}))) (local.get $top))))
    (call $barrier)

    (local.set $clock (call $startClock))
    (if (i32.load (i32.const {control.splitUnits}))
      (then (call $backwardUnits (local.get $index) (local.get $clock)))
      (else
    (block $claimed (loop $claims
      (local.set $b0 (call $claim (i32.const {control.backwardNextRow}) (local.get $B)))
      (br_if $claimed (i32.ge_u (local.get $b0) (local.get $B)))
      (local.set $rows (call $chunkAt (local.get $B) (local.get $b0)))
      (local.set $done (i32.add (local.get $done) (local.get $rows)))
        (local.set $layer (local.get $top))
        (loop $layers
          (local.set $ip (i32.load offset={layer.inputWidth} (local.get $layer)))
          (local.set $hp (i32.load offset={layer.paddedHidden} (local.get $layer)))
          (local.set $g (i32.shl (local.get $hp) (i32.const 2)))
          (local.set $yAt (i32.load offset={layer.yAt} (local.get $layer)))
          (local.set $zRow (i32.load offset={layer.zRow} (local.get $layer)))
          (local.set $gateRow (i32.load offset={layer.gateRow} (local.get $layer)))
          (local.set $thetaT (i32.load offset={layer.thetaT} (local.get $layer)))
          (local.set $gateStep (i32.mul (local.get $B) (local.get $gateRow)))
          (local.set $hStep (i32.mul (local.get $B) (i32.shl (local.get $hp) (i32.const 2))))
          ;; This thread's first row at step T-1; they move back by a step's bytes.
          (local.set $gates (i32.add (i32.load offset={layer.gates} (local.get $layer))
            (i32.add (i32.mul (i32.sub (local.get $T) (i32.const 1)) (local.get $gateStep)) (i32.mul (local.get $b0) (local.get $gateRow)))))
          (local.set $delta (i32.add (i32.load offset={layer.delta} (local.get $layer))
            (i32.add (i32.mul (i32.sub (local.get $T) (i32.const 1)) (local.get $gateStep)) (i32.mul (local.get $b0) (local.get $gateRow)))))
          (local.set $c (i32.add (i32.load offset={layer.c} (local.get $layer))
            (i32.add (i32.mul (i32.sub (local.get $T) (i32.const 1)) (local.get $hStep)) (i32.mul (local.get $b0) (i32.shl (local.get $hp) (i32.const 2))))))
          (local.set $tanhC (i32.add (i32.load offset={layer.tanhC} (local.get $layer))
            (i32.add (i32.mul (i32.sub (local.get $T) (i32.const 1)) (local.get $hStep)) (i32.mul (local.get $b0) (i32.shl (local.get $hp) (i32.const 2))))))
          (local.set $gy (i32.add (i32.load offset={layer.gy} (local.get $layer))
            (i32.add (i32.mul (i32.sub (local.get $T) (i32.const 1)) (local.get $hStep)) (i32.mul (local.get $b0) (i32.shl (local.get $hp) (i32.const 2))))))
          ;; dc rows are the widest layer's apart: threads go through the layers at their own pace.
          (local.set $dc (i32.add (i32.load (i32.const {model.dc})) (i32.mul (local.get $b0) (i32.load (i32.const {model.dcRow})))))
          (memory.fill (local.get $dc) (i32.const 0) (i32.mul (local.get $rows) (i32.shl (local.get $hp) (i32.const 2))))
          (local.set $t (i32.sub (local.get $T) (i32.const 1)))
          (loop $steps
            (call $cellBackward (local.get $gates) (local.get $gateRow) (local.get $c) (local.get $tanhC) (local.get $gy)
              (local.get $dc) (local.get $delta) (local.get $rows) (local.get $hp) (local.get $hp))
            ;; gy_{t-1} [+]= δ_t V^T. The top layer's gy holds only the dense layer's gradient at T-1,
            ;; so this writes the other steps; a lower layer's gy already holds the layer above's.
            (if (local.get $t)
              (then
                (call $gemm (i32.sub (local.get $gy) (local.get $hStep)) (i32.shl (local.get $hp) (i32.const 2))
                  (local.get $delta) (local.get $gateRow) (i32.const 4)
                  (local.get $thetaT) (i32.const 0) (i32.shl (local.get $g) (i32.const 5))
                  (local.get $rows) (local.get $hp) (local.get $g) (i32.ne (local.get $layer) (local.get $top))
                  (local.get $packed))))
            (local.set $gates (i32.sub (local.get $gates) (local.get $gateStep)))
            (local.set $delta (i32.sub (local.get $delta) (local.get $gateStep)))
            (local.set $c (i32.sub (local.get $c) (local.get $hStep)))
            (local.set $tanhC (i32.sub (local.get $tanhC) (local.get $hStep)))
            (local.set $gy (i32.sub (local.get $gy) (local.get $hStep)))
            (br_if $steps (i32.ge_s (local.tee $t (i32.sub (local.get $t) (i32.const 1))) (i32.const 0))))
          (if (i32.ne (local.get $layer) (local.get $first))
            (then
              ;; The layer below's gy_t = δ_t W^T at every step (its Hp is this layer's Ip).
              (local.set $delta (i32.add (i32.load offset={layer.delta} (local.get $layer)) (i32.mul (local.get $b0) (local.get $gateRow))))
              (local.set $belowStep (i32.mul (local.get $B) (i32.shl (local.get $ip) (i32.const 2))))
              (local.set $belowGy (i32.add (i32.load offset={layer.gy} (i32.sub (local.get $layer) (i32.const {layerEntry.bytes})))
                (i32.mul (local.get $b0) (i32.shl (local.get $ip) (i32.const 2)))))
              (local.set $t (i32.const 0))
              (loop $below
                (call $gemm (local.get $belowGy) (i32.shl (local.get $ip) (i32.const 2))
                  (local.get $delta) (local.get $gateRow) (i32.const 4)
                  (i32.add (local.get $thetaT) (i32.shl (i32.mul (local.get $g) (local.get $hp)) (i32.const 2)))
                  (i32.const 0) (i32.shl (local.get $g) (i32.const 5))
                  (local.get $rows) (local.get $ip) (local.get $g) (i32.const 0) (local.get $packed))
                (local.set $belowGy (i32.add (local.get $belowGy) (local.get $belowStep)))
                (local.set $delta (i32.add (local.get $delta) (local.get $gateStep)))
                (br_if $below (i32.lt_s (local.tee $t (i32.add (local.get $t) (i32.const 1))) (local.get $T))))))
          (br_if $layers (i32.ge_u (local.tee $layer (i32.sub (local.get $layer) (i32.const {layerEntry.bytes}))) (local.get $first))))
      (br $claims)))
    (call $recordBusy (local.get $index) (local.get $clock) (local.get $done))))
    (call $barrier)

    ;; dtheta = sum over steps and rows of z^T δ: rows 0..yAt (W, b) over every step, the V rows over
    ;; steps 1..T-1 (y_{-1} = 0 adds nothing).
    (local.set $layer (local.get $first))
    (loop $gradients
      (local.set $hp (i32.load offset={layer.paddedHidden} (local.get $layer)))
      (local.set $g (i32.shl (local.get $hp) (i32.const 2)))
      (local.set $yAt (i32.load offset={layer.yAt} (local.get $layer)))
      (local.set $zRow (i32.load offset={layer.zRow} (local.get $layer)))
      (local.set $gateRow (i32.load offset={layer.gateRow} (local.get $layer)))
      (local.set $zStep (i32.mul (local.get $B) (local.get $zRow)))
      (local.set $gateStep (i32.mul (local.get $B) (local.get $gateRow)))
      (local.set $q0 (call $shareStart (local.get $index) (local.get $g) (i32.const 16)))
      (local.set $q1 (call $shareStart (i32.add (local.get $index) (i32.const 1)) (local.get $g) (i32.const 16)))
      (local.set $grad (i32.add (i32.add (i32.load (i32.const {model.grads})) (i32.load offset={layer.theta} (local.get $layer)))
        (i32.shl (local.get $q0) (i32.const 2))))
      (local.set $delta (i32.add (i32.load offset={layer.delta} (local.get $layer)) (i32.shl (local.get $q0) (i32.const 2))))
      (call $gemm (local.get $grad) (local.get $gateRow) (i32.load offset={layer.z} (local.get $layer)) (i32.const 4) (local.get $zRow)
        (local.get $delta) (local.get $gateRow) (i32.const 0) (local.get $yAt) (i32.sub (local.get $q1) (local.get $q0))
        (i32.mul (local.get $T) (local.get $B)) (i32.const 0) (local.get $packed))
      (call $gemm (i32.add (local.get $grad) (i32.mul (local.get $yAt) (local.get $gateRow))) (local.get $gateRow)
        (i32.add (i32.add (i32.load offset={layer.z} (local.get $layer)) (local.get $zStep)) (i32.shl (local.get $yAt) (i32.const 2)))
        (i32.const 4) (local.get $zRow)
        (i32.add (local.get $delta) (local.get $gateStep)) (local.get $gateRow) (i32.const 0) (local.get $hp)
        (i32.sub (local.get $q1) (local.get $q0))
        (i32.mul (i32.sub (local.get $T) (i32.const 1)) (local.get $B)) (i32.const 0) (local.get $packed))
      (br_if $gradients (i32.le_u (local.tee $layer (i32.add (local.get $layer) (i32.const {layerEntry.bytes}))) (local.get $top)))))

  ;; Update: this thread's range of the parameters (every optimizer is elementwise).
  (func $updateShare (param $index i32)
    (local $count i32) (local $p0 i32) (local $n i32) (local $params i32) (local $grads i32) (local $slots i32)
    (local.set $count (i32.load (i32.const {model.paramCount})))
    (local.set $p0 (call $shareStart (local.get $index) (local.get $count) (i32.const 16)))
    (local.set $n (i32.sub (call $shareStart (i32.add (local.get $index) (i32.const 1)) (local.get $count) (i32.const 16))
      (local.get $p0)))
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $params (i32.add (i32.load (i32.const {model.params})) (i32.shl (local.get $p0) (i32.const 2))))
    (local.set $grads (i32.add (i32.load (i32.const {model.grads})) (i32.shl (local.get $p0) (i32.const 2))))
    (local.set $slots (i32.add (i32.load (i32.const {model.slots})) (i32.shl (local.get $p0) (i32.const 2))))
    (block $done
      (block $adam
        (block $momentum
          (block $sgd
            (br_table $sgd $momentum $adam (i32.load (i32.const {control.optimizer}))))
          (call $sgd (local.get $params) (local.get $grads) (local.get $n) (f32.load (i32.const {control.learningRate})))
          (br $done))
        (call $momentum (local.get $params) (local.get $grads) (local.get $slots) (local.get $n)
          (f32.load (i32.const {control.learningRate})) (f32.load (i32.const {control.momentum})) (f32.load (i32.const {control.scale})))
        (br $done))
      ;; Adam's v follows m: one parameter count further.
      (call $adam (local.get $params) (local.get $grads) (local.get $slots)
        (i32.add (local.get $slots) (i32.shl (local.get $count) (i32.const 2))) (local.get $n)
        (f32.load (i32.const {control.learningRate})) (f32.load (i32.const {control.beta1})) (f32.load (i32.const {control.oneMinusBeta1})) (f32.load (i32.const {control.beta2}))
        (f32.load (i32.const {control.oneMinusBeta2})) (f32.load (i32.const {control.epsilon})) (f32.load (i32.const {control.c1})) (f32.load (i32.const {control.c2}))
        (f32.load (i32.const {control.scale})))))

  ;; Pack: every layer's theta into thetaS, in column strips for the forward products (gate columns
  ;; split). fastLstm.ts runs it before a forward pass when the parameters have changed since.
  (func $packShare (param $index i32)
    (local $layer i32) (local $top i32) (local $g i32)
    (local.set $layer (i32.load (i32.const {model.layers})))
    (local.set $top (i32.add (local.get $layer) (i32.shl (i32.sub (i32.load (i32.const {model.layerCount})) (i32.const 1)) (i32.const {layerEntry.shift}))))
    (loop $layers
      (local.set $g (i32.shl (i32.load offset={layer.paddedHidden} (local.get $layer)) (i32.const 2)))
      (call $packStrips (i32.load offset={layer.thetaS} (local.get $layer))
        (i32.add (i32.load (i32.const {model.params})) (i32.load offset={layer.theta} (local.get $layer))) (i32.load offset={layer.gateRow} (local.get $layer))
        (i32.load offset={layer.zWidth} (local.get $layer))
        (call $shareStart (local.get $index) (local.get $g) (i32.const 16))
        (call $shareStart (i32.add (local.get $index) (i32.const 1)) (local.get $g) (i32.const 16)))
      (br_if $layers (i32.le_u (local.tee $layer (i32.add (local.get $layer) (i32.const {layerEntry.bytes}))) (local.get $top)))))

  (func $share (param $command i32) (param $index i32)
    (local $clock f64)
    (if (i32.eq (local.get $command) (i32.const {command.forward}))
      (then
        (local.set $clock (call $startClock))
        (if (i32.load (i32.const {control.splitUnits}))
          (then (call $forwardUnits (local.get $index) (local.get $clock)))
          (else (call $recordBusy (local.get $index) (local.get $clock) (call $forwardShare (local.get $index)))))
        (return)))
    (if (i32.eq (local.get $command) (i32.const {command.backward})) (then (call $backwardShare (local.get $index)) (return)))
    (if (i32.eq (local.get $command) (i32.const {command.update})) (then (call $updateShare (local.get $index)) (return)))
    (if (i32.eq (local.get $command) (i32.const {command.pack})) (then (call $packShare (local.get $index)))))

  ;; ---------------------------------------------------------------------------------------------
  ;; Threads. Commands: forward, backward, update, stop, pack ({command.*}). The control words are read
  ;; and written with atomics; everything else a phase writes is published by the barrier that ends
  ;; it.
  ;; ---------------------------------------------------------------------------------------------

  ;; Returns once the i32 at addr is no longer `seen`, or a thread has failed. Spins first: a phase
  ;; of a small model takes about as long as a sleep and a wake-up.
  (func $awaitChange (param $addr i32) (param $seen i32)
    (local $spins i32)
    (local.set $spins (i32.const 20000))
    (loop $spin
      (if (i32.ne (i32.atomic.load (local.get $addr)) (local.get $seen)) (then (return)))
      (br_if $spin (local.tee $spins (i32.sub (local.get $spins) (i32.const 1)))))
    (loop $sleep
      (if (i32.ne (i32.atomic.load (local.get $addr)) (local.get $seen)) (then (return)))
      (if (i32.atomic.load (i32.const {control.failed})) (then (return)))
      ;; 0.1 s at most, to see a failure
      (drop (memory.atomic.wait32 (local.get $addr) (local.get $seen) (i64.const 100000000)))
      (br $sleep)))

  ;; Every thread of the call waits here until all have arrived (the last one wakes the others).
  (func $barrier
    (local $threads i32) (local $generation i32)
    (local.set $threads (i32.load (i32.const {control.threads})))
    (if (i32.le_u (local.get $threads) (i32.const 1)) (then (return)))
    (local.set $generation (i32.atomic.load (i32.const {control.generation})))
    (if (i32.eq (i32.atomic.rmw.add (i32.const {control.arrivals}) (i32.const 1)) (i32.sub (local.get $threads) (i32.const 1)))
      (then
        (i32.atomic.store (i32.const {control.arrivals}) (i32.const 0))
        (drop (i32.atomic.rmw.add (i32.const {control.generation}) (i32.const 1)))
        (drop (memory.atomic.notify (i32.const {control.generation}) (i32.const -1))))
      (else (call $awaitChange (i32.const {control.generation}) (local.get $generation))))
    (if (i32.atomic.load (i32.const {control.failed})) (then (unreachable))))

  ;; Hands the command in the control block to thread `index`.
  (func $post (param $index i32)
    (local $mailbox i32)
    (local.set $mailbox (i32.add (i32.const {mailboxes}) (i32.shl (local.get $index) (i32.const 2))))
    (drop (i32.atomic.rmw.add (local.get $mailbox) (i32.const 1)))
    (drop (memory.atomic.notify (local.get $mailbox) (i32.const 1))))

  ;; Thread 0: runs `command` on the control block's `threads` threads, its own share included, and
  ;; returns when every share is done. With one thread nothing here waits or needs shared memory.
  (func (export "run") (param $command i32)
    (local $threads i32) (local $i i32)
    (i32.store (i32.const {control.command}) (local.get $command))
    (i32.atomic.store (i32.const {control.forwardNextRow}) (i32.const 0))
    (i32.atomic.store (i32.const {control.backwardNextRow}) (i32.const 0))
    (local.set $threads (i32.load (i32.const {control.threads})))
    (local.set $i (i32.const 1))
    (block $posted
      (loop $post
        (br_if $posted (i32.ge_u (local.get $i) (local.get $threads)))
        (call $post (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $post)))
    (call $share (local.get $command) (i32.const 0))
    (call $barrier))

  ;; Threads 1..: each waits for its mailbox (which starts at 0), runs its share, meets the others at
  ;; the barrier; returns on the stop command or a failure.
  (func (export "threadMain") (param $index i32)
    (local $mailbox i32) (local $seen i32)
    (local.set $mailbox (i32.add (i32.const {mailboxes}) (i32.shl (local.get $index) (i32.const 2))))
    (loop $next
      (call $awaitChange (local.get $mailbox) (local.get $seen))
      (if (i32.atomic.load (i32.const {control.failed})) (then (return)))
      (local.set $seen (i32.atomic.load (local.get $mailbox)))
      (if (i32.eq (i32.load (i32.const {control.command})) (i32.const {command.stop})) (then (return)))
      (call $share (i32.load (i32.const {control.command})) (local.get $index))
      (call $barrier)
      (br $next)))

  ;; Ends threads 1..count-1: their threadMain returns.
  (func (export "stopThreads") (param $count i32)
    (local $i i32)
    (i32.store (i32.const {control.command}) (i32.const {command.stop}))
    (local.set $i (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (call $post (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; A thread that trapped marks the failure and wakes every waiter, so that no thread waits for it
  ;; forever; every barrier then traps too.
  (func (export "fail")
    (i32.atomic.store (i32.const {control.failed}) (i32.const 1))
    (drop (i32.atomic.rmw.add (i32.const {control.generation}) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const {control.generation}) (i32.const -1))))
)
