package dev.llmkit.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** LoRA dropout's masks and their application against the element-by-element code they replaced. */
class LoraMaskTest {
    private static final int[] WIDTHS = {1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 127, 128, 256, 288, 768, 1000};

    /** The mask as it was drawn before: a SplittableRandom per row, a branch per element. */
    private static void reference(long[] m, int w0, int in, long rowSeed, int drop) {
        SplittableRandom rnd = new SplittableRandom(rowSeed);
        java.util.Arrays.fill(m, w0, w0 + (in + 63) / 64, 0L);
        long bits = 0;
        for (int j = 0; j < in; j++) {
            if ((j & 3) == 0) bits = rnd.nextLong();
            if ((int) (bits & 0xFFFF) >= drop) m[w0 + (j >>> 6)] |= 1L << j;
            bits >>>= 16;
        }
    }

    @Test
    void masksAreTheBitsSplittableRandomDrew() {
        SplittableRandom seeds = new SplittableRandom(7);
        for (int in : WIDTHS) {
            for (int drop : new int[] {0, 1, 3277, 32768, 65535, 65536}) {
                for (int row = 0; row < 20; row++) {
                    long seed = seeds.nextLong();
                    int words = (in + 63) / 64;
                    long[] want = new long[words + 2], got = new long[words + 2];
                    java.util.Arrays.fill(got, -1L);     // every word of the row written, its neighbours not
                    want[0] = want[words + 1] = -1L;
                    reference(want, 1, in, seed, drop);
                    Lora.drawMask(got, 1, in, seed, drop);
                    assertArrayEquals(want, got, "in " + in + ", drop " + drop);
                }
            }
        }
    }

    @Test
    void keptAndAddedElementsMatchTheElementLoops() {
        SplittableRandom r = new SplittableRandom(11);
        float keep = 1f / (1f - 0.1f);
        for (int in : WIDTHS) {
            int words = (in + 63) / 64, off = 3;
            long[] m = new long[words];
            Lora.drawMask(m, 0, in, r.nextLong(), 6554);
            float[] x = new float[off + in], dst = new float[off + in + 2];
            for (int j = 0; j < x.length; j++) x[j] = (float) r.nextGaussian();
            x[off] = -0f;
            for (int j = 0; j < dst.length; j++) dst[j] = (float) r.nextGaussian();
            float[] out = new float[off + in + 2], want = out.clone();
            java.util.Arrays.fill(out, 9f);
            java.util.Arrays.fill(want, 9f);
            Lora.keptRow(x, off, m, 0, in, keep, out, 1);
            for (int j = 0; j < in; j++) want[1 + j] = Lora.kept(m, 0, j) ? x[off + j] * keep : 0f;
            assertArrayEquals(want, out, "kept, in " + in);
            float[] added = dst.clone(), wantAdded = dst.clone();
            Lora.addKept(x, off, m, 0, in, keep, added, 2);
            for (int j = 0; j < in; j++) if (Lora.kept(m, 0, j)) wantAdded[2 + j] += x[off + j] * keep;
            assertArrayEquals(wantAdded, added, "added, in " + in);
        }
    }

    @Test
    void aboutTheDroppedShareIsDropped() {
        int in = 4096;
        long[] m = new long[in / 64];
        Lora.drawMask(m, 0, in, 42, (int) Math.round(0.25 * 65536));
        int kept = 0;
        for (long w : m) kept += Long.bitCount(w);
        assertEquals(0.75, kept / (double) in, 0.03);
    }
}
