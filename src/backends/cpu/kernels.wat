;; The CPU backend's fast kernels: WebAssembly SIMD (f32x4) for the LSTM's matrix products and gate
;; math. The readable reference is lstm.ts; fastLstm.ts drives these kernels and the tests hold them
;; to the reference. Compiled by scripts/build-cpu-kernels.ts into kernelsWasm.ts (committed bytes,
;; so nothing is built or fetched at run time).
;;
;; Legend: B = batch rows, T = window, H = hidden size, Hp = H rounded up to a multiple of 4,
;; G = 4 gates. Gate rows are (4, Hp): gate g of unit j at g*Hp + j, so every gate block is whole
;; f32x4 vectors; the padding units have zero weights and stay exactly zero (see fastLstm.ts).
;; Every pointer is a byte offset into the imported memory, every stride in bytes, every count in
;; elements. Pointers to vectors are 16-byte aligned by fastLstm.ts.

(module
  (memory (import "env" "memory") 1)

  ;; ---------------------------------------------------------------------------------------------
  ;; gemm: C (m, n) = [C +] A (m, k) · Bm (k, n), in the axpy form that suits 4H-wide rows:
  ;; C[i, :] += A[i, p] * Bm[p, :]. Bm and C are row-major with n (a multiple of 4) columns;
  ;; A[i, p] sits at a + i*aRow + p*aInner, so the same kernel takes A (aRow = 4K, aInner = 4),
  ;; A transposed (aRow = 4, aInner = 4M, for the weight gradients X^T δ), or a broadcast constant
  ;; (aRow = aInner = 0, for the bias). Tiles of 4 rows × 8 columns keep 8 accumulators in registers.
  ;; ---------------------------------------------------------------------------------------------

  (func $tile4x8
    (param $cp i32) (param $ap i32) (param $aRow i32) (param $aInner i32)
    (param $bp i32) (param $nb i32) (param $k i32) (param $accumulate i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $a1 (i32.add (local.get $ap) (local.get $aRow)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $aRow)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $aRow)))
    (local.set $c1 (i32.add (local.get $cp) (local.get $nb)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $nb)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $nb)))
    (if (local.get $accumulate)
      (then
        (local.set $c00 (v128.load (local.get $cp)))
        (local.set $c01 (v128.load offset=16 (local.get $cp)))
        (local.set $c10 (v128.load (local.get $c1)))
        (local.set $c11 (v128.load offset=16 (local.get $c1)))
        (local.set $c20 (v128.load (local.get $c2)))
        (local.set $c21 (v128.load offset=16 (local.get $c2)))
        (local.set $c30 (v128.load (local.get $c3)))
        (local.set $c31 (v128.load offset=16 (local.get $c3)))))
    (block $done
      (loop $inner
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (v128.load (local.get $bp)))
        (local.set $b1 (v128.load offset=16 (local.get $bp)))
        (local.set $s (v128.load32_splat (local.get $ap)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (v128.load32_splat (local.get $a1)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (v128.load32_splat (local.get $a2)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (v128.load32_splat (local.get $a3)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $ap (i32.add (local.get $ap) (local.get $aInner)))
        (local.set $a1 (i32.add (local.get $a1) (local.get $aInner)))
        (local.set $a2 (i32.add (local.get $a2) (local.get $aInner)))
        (local.set $a3 (i32.add (local.get $a3) (local.get $aInner)))
        (local.set $bp (i32.add (local.get $bp) (local.get $nb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $inner)))
    (v128.store (local.get $cp) (local.get $c00))
    (v128.store offset=16 (local.get $cp) (local.get $c01))
    (v128.store (local.get $c1) (local.get $c10))
    (v128.store offset=16 (local.get $c1) (local.get $c11))
    (v128.store (local.get $c2) (local.get $c20))
    (v128.store offset=16 (local.get $c2) (local.get $c21))
    (v128.store (local.get $c3) (local.get $c30))
    (v128.store offset=16 (local.get $c3) (local.get $c31)))

  ;; The column tail of a row block: 4 rows × 4 columns.
  (func $tile4x4
    (param $cp i32) (param $ap i32) (param $aRow i32) (param $aInner i32)
    (param $bp i32) (param $nb i32) (param $k i32) (param $accumulate i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $b0 v128) (local $c0v v128) (local $c1v v128) (local $c2v v128) (local $c3v v128)
    (local.set $a1 (i32.add (local.get $ap) (local.get $aRow)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $aRow)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $aRow)))
    (local.set $c1 (i32.add (local.get $cp) (local.get $nb)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $nb)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $nb)))
    (if (local.get $accumulate)
      (then
        (local.set $c0v (v128.load (local.get $cp)))
        (local.set $c1v (v128.load (local.get $c1)))
        (local.set $c2v (v128.load (local.get $c2)))
        (local.set $c3v (v128.load (local.get $c3)))))
    (block $done
      (loop $inner
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (v128.load (local.get $bp)))
        (local.set $c0v (f32x4.add (local.get $c0v)
          (f32x4.mul (v128.load32_splat (local.get $ap)) (local.get $b0))))
        (local.set $c1v (f32x4.add (local.get $c1v)
          (f32x4.mul (v128.load32_splat (local.get $a1)) (local.get $b0))))
        (local.set $c2v (f32x4.add (local.get $c2v)
          (f32x4.mul (v128.load32_splat (local.get $a2)) (local.get $b0))))
        (local.set $c3v (f32x4.add (local.get $c3v)
          (f32x4.mul (v128.load32_splat (local.get $a3)) (local.get $b0))))
        (local.set $ap (i32.add (local.get $ap) (local.get $aInner)))
        (local.set $a1 (i32.add (local.get $a1) (local.get $aInner)))
        (local.set $a2 (i32.add (local.get $a2) (local.get $aInner)))
        (local.set $a3 (i32.add (local.get $a3) (local.get $aInner)))
        (local.set $bp (i32.add (local.get $bp) (local.get $nb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $inner)))
    (v128.store (local.get $cp) (local.get $c0v))
    (v128.store (local.get $c1) (local.get $c1v))
    (v128.store (local.get $c2) (local.get $c2v))
    (v128.store (local.get $c3) (local.get $c3v)))

  ;; The row tail (fewer than 4 rows left): one row × 8 columns, or × 4 when $wide is 0.
  (func $tile1
    (param $cp i32) (param $ap i32) (param $aInner i32)
    (param $bp i32) (param $nb i32) (param $k i32) (param $accumulate i32) (param $wide i32)
    (local $s v128) (local $c0v v128) (local $c1v v128)
    (if (local.get $accumulate)
      (then
        (local.set $c0v (v128.load (local.get $cp)))
        (if (local.get $wide) (then (local.set $c1v (v128.load offset=16 (local.get $cp)))))))
    (block $done
      (loop $inner
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $s (v128.load32_splat (local.get $ap)))
        (local.set $c0v (f32x4.add (local.get $c0v) (f32x4.mul (local.get $s) (v128.load (local.get $bp)))))
        (if (local.get $wide)
          (then
            (local.set $c1v (f32x4.add (local.get $c1v)
              (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))))
        (local.set $ap (i32.add (local.get $ap) (local.get $aInner)))
        (local.set $bp (i32.add (local.get $bp) (local.get $nb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $inner)))
    (v128.store (local.get $cp) (local.get $c0v))
    (if (local.get $wide) (then (v128.store offset=16 (local.get $cp) (local.get $c1v)))))

  ;; For the cache, Bm is taken 256 rows at a time (a 256 x 8 panel is 8 KB and stays in L1 while
  ;; every row block of A passes over it), with column tiles outside and row blocks inside.
  (func (export "gemm")
    (param $c i32) (param $a i32) (param $aRow i32) (param $aInner i32) (param $b i32)
    (param $m i32) (param $n i32) (param $k i32) (param $accumulate i32)
    (local $nb i32) (local $p0 i32) (local $kc i32) (local $aPanel i32) (local $bPanel i32)
    (local $q i32) (local $wide i32) (local $i i32)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    ;; One pass even when k is 0, so that C is still written (zeros) when not accumulating.
    (loop $panels
      (local.set $kc (i32.sub (local.get $k) (local.get $p0)))
      (if (i32.gt_s (local.get $kc) (i32.const 256)) (then (local.set $kc (i32.const 256))))
      (local.set $aPanel (i32.add (local.get $a) (i32.mul (local.get $p0) (local.get $aInner))))
      (local.set $bPanel (i32.add (local.get $b) (i32.mul (local.get $p0) (local.get $nb))))
      (local.set $q (i32.const 0))
      (block $colsDone
        (loop $cols
          (br_if $colsDone (i32.ge_s (local.get $q) (local.get $nb)))
          ;; 8 columns, or the last 4
          (local.set $wide (i32.le_s (i32.add (local.get $q) (i32.const 32)) (local.get $nb)))
          (local.set $i (i32.const 0))
          (block $rowsDone
            (loop $rows
              (br_if $rowsDone (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $m)))
              (if (local.get $wide)
                (then
                  (call $tile4x8
                    (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))) (local.get $q))
                    (i32.add (local.get $aPanel) (i32.mul (local.get $i) (local.get $aRow)))
                    (local.get $aRow) (local.get $aInner) (i32.add (local.get $bPanel) (local.get $q))
                    (local.get $nb) (local.get $kc) (local.get $accumulate)))
                (else
                  (call $tile4x4
                    (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))) (local.get $q))
                    (i32.add (local.get $aPanel) (i32.mul (local.get $i) (local.get $aRow)))
                    (local.get $aRow) (local.get $aInner) (i32.add (local.get $bPanel) (local.get $q))
                    (local.get $nb) (local.get $kc) (local.get $accumulate))))
              (local.set $i (i32.add (local.get $i) (i32.const 4)))
              (br $rows)))
          ;; The rows left over (fewer than 4), one at a time.
          (block $tailDone
            (loop $tail
              (br_if $tailDone (i32.ge_s (local.get $i) (local.get $m)))
              (call $tile1
                (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))) (local.get $q))
                (i32.add (local.get $aPanel) (i32.mul (local.get $i) (local.get $aRow)))
                (local.get $aInner) (i32.add (local.get $bPanel) (local.get $q)) (local.get $nb) (local.get $kc)
                (local.get $accumulate) (local.get $wide))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $tail)))
          (local.set $q (i32.add (local.get $q) (select (i32.const 32) (i32.const 16) (local.get $wide))))
          (br $cols)))
      ;; Later panels add to what the first wrote.
      (local.set $accumulate (i32.const 1))
      (local.set $p0 (i32.add (local.get $p0) (i32.const 256)))
      (br_if $panels (i32.lt_s (local.get $p0) (local.get $k)))))

  ;; ---------------------------------------------------------------------------------------------
  ;; Gate math. activate: dst = a * sigmoid(a * src) + (1 - a) over `bytes` of floats, with `form`
  ;; the address of its constants: 224 for a = 1, the sigmoid; 272 for a = 2, tanh(x) =
  ;; 2 sigmoid(2x) - 1 (exact to about 1e-7 absolute, which is what the gradients need).
  ;; sigmoid(x) = 1 / (1 + exp(-x)) with exp in single precision (Cephes expf: the exponent by
  ;; rounding x/ln2, a degree-6 polynomial on the rest, about 1 ulp). One loop over many independent
  ;; vectors lets the core overlap the exp chains and divisions.
  ;; ---------------------------------------------------------------------------------------------

  ;; The constants of activate, stored at instantiation into the first bytes of memory (fastLstm.ts
  ;; allocates from heapBase on). They are loaded into locals before activate's loop: written inline,
  ;; V8 rebuilds every v128 constant inside the loop, three instructions each.
  (global (export "heapBase") i32 (i32.const 320))
  ;; Address 0 holds (1, 1, 1, 1), the broadcast constant the bias products use (aRow = aInner = 0).
  (global (export "ones") i32 (i32.const 0))
  (func $storeConstants
    (v128.store (i32.const 0) (v128.const f32x4 1 1 1 1))
    (v128.store (i32.const 16) (v128.const f32x4 88.3 88.3 88.3 88.3))
    (v128.store (i32.const 32) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3))
    (v128.store (i32.const 48) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))
    (v128.store (i32.const 64) (v128.const f32x4 12582912 12582912 12582912 12582912))
    (v128.store (i32.const 80) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
    (v128.store (i32.const 96) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))
    (v128.store (i32.const 112) (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (v128.store (i32.const 128) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3))
    (v128.store (i32.const 144) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3))
    (v128.store (i32.const 160) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2))
    (v128.store (i32.const 176) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1))
    (v128.store (i32.const 192) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
    (v128.store (i32.const 208) (v128.const i32x4 127 127 127 127))
    ;; activate's two forms, (-a, 1 - a, a) each: sigmoid at 224, tanh at 272.
    (v128.store (i32.const 224) (v128.const f32x4 -1 -1 -1 -1))
    (v128.store (i32.const 240) (v128.const f32x4 0 0 0 0))
    (v128.store (i32.const 256) (v128.const f32x4 1 1 1 1))
    (v128.store (i32.const 272) (v128.const f32x4 -2 -2 -2 -2))
    (v128.store (i32.const 288) (v128.const f32x4 -1 -1 -1 -1))
    (v128.store (i32.const 304) (v128.const f32x4 2 2 2 2)))
  (start $storeConstants)

  (func $activate (param $src i32) (param $dst i32) (param $bytes i32) (param $form i32)
    (local $scale v128) (local $shift v128) (local $a v128) (local $end i32)
    (local $one v128) (local $hi v128) (local $lo v128) (local $log2e v128) (local $magic v128)
    (local $ln2hi v128) (local $ln2lo v128) (local $p0 v128) (local $p1 v128) (local $p2 v128)
    (local $p3 v128) (local $p4 v128) (local $p5 v128) (local $bias v128)
    (local $x v128) (local $z v128) (local $n v128) (local $r v128) (local $p v128)
    (local.set $one (v128.load (i32.const 0)))
    (local.set $hi (v128.load (i32.const 16)))
    (local.set $lo (v128.load (i32.const 32)))
    (local.set $log2e (v128.load (i32.const 48)))
    (local.set $magic (v128.load (i32.const 64)))
    (local.set $ln2hi (v128.load (i32.const 80)))
    (local.set $ln2lo (v128.load (i32.const 96)))
    (local.set $p0 (v128.load (i32.const 112)))
    (local.set $p1 (v128.load (i32.const 128)))
    (local.set $p2 (v128.load (i32.const 144)))
    (local.set $p3 (v128.load (i32.const 160)))
    (local.set $p4 (v128.load (i32.const 176)))
    (local.set $p5 (v128.load (i32.const 192)))
    (local.set $bias (v128.load (i32.const 208)))
    ;; exp is taken of -a x
    (local.set $scale (v128.load (local.get $form)))
    (local.set $shift (v128.load offset=16 (local.get $form)))
    (local.set $a (v128.load offset=32 (local.get $form)))
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

  ;; One step of the cell for `rows` rows: gates (rows, 4, Hp) pre-activations in, activations
  ;; f, i, g, o out (in place); c = f*cPrev + i*g; tanhC = tanh(c); y = o*tanhC. cPrev, c, tanhC
  ;; and y are (rows, Hp).
  (func (export "cellForward")
    (param $gates i32) (param $cPrev i32) (param $c i32) (param $tanhC i32) (param $y i32)
    (param $rows i32) (param $hp i32)
    (local $gs i32) (local $q i32) (local $rowStart i32) (local $end i32) (local $rowEnd i32)
    (local $i i32) (local $g i32) (local $o i32)
    (local.set $gs (i32.shl (local.get $hp) (i32.const 2)))
    ;; q walks the (rows, Hp) arrays, the gate pointers the (rows, 4, Hp) one.
    (local.set $end (i32.mul (local.get $rows) (local.get $gs)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_s (local.get $q) (local.get $end)))
        (local.set $i (i32.add (local.get $gates) (local.get $gs)))
        (local.set $g (i32.add (local.get $i) (local.get $gs)))
        (local.set $o (i32.add (local.get $g) (local.get $gs)))
        ;; f and i are adjacent: one sigmoid over both; then tanh(g), sigmoid(o).
        (call $activate (local.get $gates) (local.get $gates) (i32.shl (local.get $gs) (i32.const 1)) (i32.const 224))
        (call $activate (local.get $g) (local.get $g) (local.get $gs) (i32.const 272))
        (call $activate (local.get $o) (local.get $o) (local.get $gs) (i32.const 224))
        (local.set $rowStart (local.get $q))
        (local.set $rowEnd (i32.add (local.get $q) (local.get $gs)))
        (loop $cell
          (v128.store (i32.add (local.get $c) (local.get $q)) (f32x4.add
            (f32x4.mul (v128.load (local.get $gates)) (v128.load (i32.add (local.get $cPrev) (local.get $q))))
            (f32x4.mul (v128.load (local.get $i)) (v128.load (local.get $g)))))
          (local.set $gates (i32.add (local.get $gates) (i32.const 16)))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (local.set $g (i32.add (local.get $g) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (br_if $cell (i32.lt_s (local.get $q) (local.get $rowEnd))))
        (call $activate (i32.add (local.get $c) (local.get $rowStart)) (i32.add (local.get $tanhC) (local.get $rowStart))
          (local.get $gs) (i32.const 272))
        (local.set $q (local.get $rowStart))
        (loop $out
          (v128.store (i32.add (local.get $y) (local.get $q))
            (f32x4.mul (v128.load (local.get $o)) (v128.load (i32.add (local.get $tanhC) (local.get $q)))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (br_if $out (i32.lt_s (local.get $q) (local.get $rowEnd))))
        ;; o now points at the next row's f.
        (local.set $gates (local.get $o))
        (br $row))))

    ;; The same step backwards: from the activations (rows, 4, Hp), cPrev and tanhC (rows, Hp), the
  ;; gradient gy (rows, Hp) reaching y and dc (rows, Hp) reaching c from the next step, the gate
  ;; deltas (rows, 4, Hp) and, in place, the dc passed to the previous step.
  (func (export "cellBackward")
    (param $gates i32) (param $cPrev i32) (param $tanhC i32) (param $gy i32) (param $dc i32)
    (param $delta i32) (param $rows i32) (param $hp i32)
    (local $gs i32) (local $q i32) (local $end i32) (local $rowEnd i32)
    (local $f v128) (local $i v128) (local $g v128) (local $o v128) (local $tc v128) (local $dy v128)
    (local $r v128) (local $one v128)
    (local.set $one (v128.const f32x4 1 1 1 1))
    (local.set $gs (i32.shl (local.get $hp) (i32.const 2)))
    (local.set $end (i32.mul (local.get $rows) (local.get $gs)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_s (local.get $q) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $q) (local.get $gs)))
        (loop $chunk
          (local.set $f (v128.load (local.get $gates)))
          (local.set $i (v128.load (i32.add (local.get $gates) (local.get $gs))))
          (local.set $g (v128.load (i32.add (local.get $gates) (i32.shl (local.get $gs) (i32.const 1)))))
          (local.set $o (v128.load (i32.add (local.get $gates) (i32.mul (local.get $gs) (i32.const 3)))))
          (local.set $tc (v128.load (i32.add (local.get $tanhC) (local.get $q))))
          (local.set $dy (v128.load (i32.add (local.get $gy) (local.get $q))))
          ;; r = dc + dy * o * (1 - tanh(c)^2): the gradient reaching c
          (local.set $r (f32x4.add (v128.load (i32.add (local.get $dc) (local.get $q)))
            (f32x4.mul (f32x4.mul (local.get $dy) (local.get $o))
              (f32x4.sub (local.get $one) (f32x4.mul (local.get $tc) (local.get $tc))))))
          (v128.store (local.get $delta)
            (f32x4.mul (f32x4.mul (local.get $r) (v128.load (i32.add (local.get $cPrev) (local.get $q))))
              (f32x4.mul (local.get $f) (f32x4.sub (local.get $one) (local.get $f)))))
          (v128.store (i32.add (local.get $delta) (local.get $gs))
            (f32x4.mul (f32x4.mul (local.get $r) (local.get $g))
              (f32x4.mul (local.get $i) (f32x4.sub (local.get $one) (local.get $i)))))
          (v128.store (i32.add (local.get $delta) (i32.shl (local.get $gs) (i32.const 1)))
            (f32x4.mul (f32x4.mul (local.get $r) (local.get $i))
              (f32x4.sub (local.get $one) (f32x4.mul (local.get $g) (local.get $g)))))
          (v128.store (i32.add (local.get $delta) (i32.mul (local.get $gs) (i32.const 3)))
            (f32x4.mul (f32x4.mul (local.get $dy) (local.get $tc))
              (f32x4.mul (local.get $o) (f32x4.sub (local.get $one) (local.get $o)))))
          (v128.store (i32.add (local.get $dc) (local.get $q)) (f32x4.mul (local.get $r) (local.get $f)))
          (local.set $gates (i32.add (local.get $gates) (i32.const 16)))
          (local.set $delta (i32.add (local.get $delta) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (br_if $chunk (i32.lt_s (local.get $q) (local.get $rowEnd))))
        (local.set $gates (i32.add (local.get $gates) (i32.mul (local.get $gs) (i32.const 3))))
        (local.set $delta (i32.add (local.get $delta) (i32.mul (local.get $gs) (i32.const 3))))
        (br $row))))

  ;; dst[j, k] = src[k, j] for src (rows, cols); dst rows are dstStride elements apart. Gives the
  ;; backward pass V^T and W^T, so dy = δ V^T is the same axpy-form gemm as the forward pass.
  (func (export "transpose")
    (param $dst i32) (param $src i32) (param $rows i32) (param $cols i32) (param $dstStride i32)
    (local $k i32) (local $j i32) (local $from i32) (local $to i32) (local $toStep i32)
    (local.set $toStep (i32.shl (local.get $dstStride) (i32.const 2)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_s (local.get $k) (local.get $rows)))
        (local.set $from (i32.add (local.get $src) (i32.shl (i32.mul (local.get $k) (local.get $cols)) (i32.const 2))))
        (local.set $to (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $colLoop
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $cols)))
            (f32.store (local.get $to) (f32.load (local.get $from)))
            (local.set $from (i32.add (local.get $from) (i32.const 4)))
            (local.set $to (i32.add (local.get $to) (local.get $toStep)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $colLoop)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rowLoop))))

  ;; ---------------------------------------------------------------------------------------------
  ;; Optimiser updates over `count` floats (a multiple of 4) of the padded parameters, gradients and
  ;; state; the math is src/model/optimizer.ts's, in single precision. `scale` is the global-norm
  ;; clipping factor (1 when clipping is off); the padding's gradients are 0, so its state and
  ;; parameters stay 0.
  ;; ---------------------------------------------------------------------------------------------

  ;; SGD, the seed's: p -= learningRate * grad (fastLstm.ts folds the clipping scale into the rate).
  (func (export "sgd") (param $params i32) (param $grads i32) (param $count i32) (param $learningRate f32)
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
  (func (export "momentum")
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
  (func (export "adam")
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
)
