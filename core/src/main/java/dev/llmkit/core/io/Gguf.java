package dev.llmkit.core.io;

import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.DataException;
import dev.llmkit.core.StorageException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GGUF v3 (ggml's docs/gguf.md), little-endian:
 * <pre>
 * u32 magic "GGUF", u32 version 3, u64 tensor_count, u64 kv_count
 * kv:     string key, u32 type, value   (types 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool,
 *                                         8 string, 9 array(u32 type, u64 n, values), 10 u64, 11 i64, 12 f64)
 * tensor: string name, u32 n_dims, u64 ne[n_dims] (ne[0] innermost), u32 ggml_type, u64 offset
 * padding to general.alignment (32), then the data; offsets are relative to it and aligned.
 * string = u64 length + UTF-8 bytes
 * </pre>
 * Tensor types: every {@link dev.llmkit.core.quant.GgmlType} (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0,
 * Q5_1, Q4_K, Q5_K, Q6_K); F32 data is written as F32 or F16, other types as bytes already encoded. The reader checks every count, length and offset against the file
 * size before allocating, so a hostile file gets a DataException naming it, never an OOM or a hang.
 */
public final class Gguf {
    private Gguf() {}

    public static final int MAGIC = 0x46554747, VERSION = 3, ALIGNMENT = 32;
    public static final int F32 = 0, F16 = 1;
    /** Largest metadata array read (a vocabulary of 16M tokens). */
    static final long MAX_ARRAY = 1 << 24;
    static final int T_U8 = 0, T_I8 = 1, T_U16 = 2, T_I16 = 3, T_U32 = 4, T_I32 = 5, T_F32 = 6, T_BOOL = 7, T_STRING = 8,
            T_ARRAY = 9, T_U64 = 10, T_I64 = 11, T_F64 = 12;

    /** A metadata value with its GGUF type; arrays hold their element type in {@code elementType}. */
    public record Value(int type, int elementType, Object value) {
        public static Value u32(long v) { return new Value(T_U32, -1, v); }
        public static Value f32(float v) { return new Value(T_F32, -1, v); }
        public static Value str(String v) { return new Value(T_STRING, -1, v); }
        public static Value strings(List<String> v) { return new Value(T_ARRAY, T_STRING, v); }
        public static Value i32s(int[] v) { return new Value(T_ARRAY, T_I32, v); }
        public static Value bool(boolean v) { return new Value(T_BOOL, -1, v ? 1L : 0L); }
    }

    /**
     * A tensor to write, shape in PyTorch order: F32 {@code data} stored as {@code type} (F32 or F16),
     * or, when {@code raw} is not null, bytes already in the block type {@code type}.
     */
    public record OutTensor(String name, int[] shape, float[] data, int type, byte[] raw) {
        public OutTensor(String name, int[] shape, float[] data, int type) {
            this(name, shape, data, type, null);
        }

        /** Bytes already encoded as {@code type}. */
        public static OutTensor raw(String name, int[] shape, dev.llmkit.core.quant.GgmlType type, byte[] bytes) {
            return new OutTensor(name, shape, null, type.id, bytes);
        }

        long bytes() {
            return raw != null ? raw.length : (long) data.length * (type == F32 ? 4 : 2);
        }
    }

    /** A tensor in a file: dims in PyTorch order (reversed from the file's ne), data offset absolute. */
    public record TensorInfo(String name, int[] shape, int type, long offset, long bytes) {
        public long numel() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }
    }

    public record Model(Path path, Map<String, Value> metadata, Map<String, TensorInfo> tensors) {
        public Value get(String key) {
            return metadata.get(key);
        }
    }

    // ---------------------------------------------------------------- writing

    public static void write(Path file, Map<String, Value> metadata, List<OutTensor> tensors) {
        AtomicFiles.write(file, out -> {
            Le le = new Le(out);
            le.u32(MAGIC);
            le.u32(VERSION);
            le.u64(tensors.size());
            le.u64(metadata.size());
            for (Map.Entry<String, Value> e : metadata.entrySet()) {
                le.str(e.getKey());
                le.u32(e.getValue().type());
                writeValue(le, e.getValue().type(), e.getValue().elementType(), e.getValue().value());
            }
            long offset = 0;
            List<Long> offsets = new ArrayList<>();
            for (OutTensor t : tensors) {
                le.str(t.name());
                le.u32(t.shape().length);
                for (int i = t.shape().length - 1; i >= 0; i--) le.u64(t.shape()[i]);
                le.u32(t.type());
                le.u64(offset);
                offsets.add(offset);
                offset = align(offset + t.bytes());
            }
            le.pad();
            long start = le.pos;
            for (int k = 0; k < tensors.size(); k++) {
                OutTensor t = tensors.get(k);
                while (le.pos - start < offsets.get(k)) le.u8(0);
                if (t.raw() != null) {
                    le.bytes(t.raw());
                    continue;
                }
                for (float v : t.data()) {
                    if (t.type() == F32) le.u32(Float.floatToRawIntBits(v));
                    else le.u16(Float.floatToFloat16(v));
                }
            }
            le.flush();
        });
    }

    private static void writeValue(Le le, int type, int elem, Object v) throws IOException {
        switch (type) {
            case T_U32 -> le.u32((int) (long) (Long) v);
            case T_BOOL, T_U8 -> le.u8((int) (long) (Long) v);
            case T_F32 -> le.u32(Float.floatToRawIntBits((Float) v));
            case T_STRING -> le.str((String) v);
            case T_ARRAY -> {
                le.u32(elem);
                if (elem == T_STRING) {
                    @SuppressWarnings("unchecked") List<String> l = (List<String>) v;
                    le.u64(l.size());
                    for (String s : l) le.str(s);
                } else if (elem == T_I32) {
                    int[] a = (int[]) v;
                    le.u64(a.length);
                    for (int x : a) le.u32(x);
                } else {
                    throw new IllegalArgumentException("array of type " + elem);
                }
            }
            default -> throw new IllegalArgumentException("value type " + type);
        }
    }

    static long align(long x) {
        return (x + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** Little-endian writer that counts bytes. */
    private static final class Le {
        final OutputStream out;
        final byte[] b = new byte[1 << 16];
        int n;
        long pos;

        Le(OutputStream out) { this.out = out; }

        void u8(int v) throws IOException {
            if (n == b.length) flush();
            b[n++] = (byte) v;
            pos++;
        }
        void u16(int v) throws IOException { u8(v); u8(v >>> 8); }
        void u32(int v) throws IOException { u16(v); u16(v >>> 16); }
        void u64(long v) throws IOException { u32((int) v); u32((int) (v >>> 32)); }
        void str(String s) throws IOException {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u64(bytes.length);
            for (byte x : bytes) u8(x);
        }
        void bytes(byte[] a) throws IOException {
            for (int i = 0; i < a.length; ) {
                if (n == b.length) flush();
                int c = Math.min(b.length - n, a.length - i);
                System.arraycopy(a, i, b, n, c);
                n += c;
                i += c;
                pos += c;
            }
        }
        void pad() throws IOException { while (pos % ALIGNMENT != 0) u8(0); }
        void flush() throws IOException {
            out.write(b, 0, n);
            n = 0;
        }
    }

    // ---------------------------------------------------------------- reading

    /** Reads metadata and tensor directory; tensor data stay in the file ({@link #readF32}). */
    public static Model read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 24) throw bad(file, "file is " + size + " bytes, too short for a GGUF header");
            Reader r = new Reader(file, ch, size);
            if (r.u32() != MAGIC) throw bad(file, "not a GGUF file (bad magic)");
            int version = r.u32();
            if (version != 3 && version != 2) throw bad(file, "GGUF version " + Integer.toUnsignedString(version) + " is not supported (3)");
            long nt = r.u64(), nkv = r.u64();
            if (nt < 0 || nt > 1 << 20 || nkv < 0 || nkv > 1 << 20) throw bad(file, "implausible counts: " + Long.toUnsignedString(nt) + " tensors, " + Long.toUnsignedString(nkv) + " metadata keys");
            Map<String, Value> meta = new LinkedHashMap<>();
            for (long i = 0; i < nkv; i++) {
                String key = r.str();
                int type = r.u32();
                meta.put(key, r.value(key, type));
            }
            long alignment = ALIGNMENT;
            Value a = meta.get("general.alignment");
            if (a != null) {
                if (a.type() != T_U32 || (long) a.value() <= 0 || ((long) a.value() & ((long) a.value() - 1)) != 0) throw bad(file, "general.alignment must be a power of two u32");
                alignment = (long) a.value();
            }
            List<Object[]> raw = new ArrayList<>();
            for (long i = 0; i < nt; i++) {
                String name = r.str();
                int nd = r.u32();
                if (nd < 1 || nd > 4) throw bad(file, "tensor \"" + name + "\": " + Integer.toUnsignedString(nd) + " dimensions (1 to 4)");
                long[] ne = new long[nd];
                for (int d = 0; d < nd; d++) {
                    ne[d] = r.u64();
                    if (ne[d] < 0 || ne[d] > Integer.MAX_VALUE) throw bad(file, "tensor \"" + name + "\": dimension " + Long.toUnsignedString(ne[d]));
                }
                raw.add(new Object[] {name, ne, r.u32(), r.u64()});
            }
            long dataStart = (r.pos + alignment - 1) / alignment * alignment;
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            List<long[]> ranges = new ArrayList<>();
            for (Object[] t : raw) {
                String name = (String) t[0];
                long[] ne = (long[]) t[1];
                int type = (int) t[2];
                long off = (long) t[3];
                dev.llmkit.core.quant.GgmlType gt = dev.llmkit.core.quant.GgmlType.byId(type);
                if (gt == null) throw bad(file, "tensor \"" + name + "\": ggml type " + Integer.toUnsignedString(type) + " is not one llmkit knows");
                long numel = 1;
                for (long d : ne) {
                    numel *= d;
                    if (numel > Integer.MAX_VALUE - 8) throw bad(file, "tensor " + name + " is too large");
                }
                if (!gt.fits(ne[0])) throw bad(file, "tensor " + name + ": rows of " + ne[0] + " are not whole " + gt + " blocks of " + gt.blockSize);
                long bytes = gt.bytes(ne[0]) * (numel / Math.max(1, ne[0]));
                if (off < 0 || off % alignment != 0 || dataStart + off + bytes > size || dataStart + off + bytes < 0) {
                    throw bad(file, "tensor " + name + ": offset " + off + " + " + bytes + " bytes runs past the end or is unaligned");
                }
                int[] shape = new int[ne.length];
                for (int d = 0; d < ne.length; d++) shape[d] = (int) ne[ne.length - 1 - d];
                if (tensors.put(name, new TensorInfo(name, shape, type, dataStart + off, bytes)) != null) throw bad(file, "tensor " + name + " appears twice");
                ranges.add(new long[] {off, off + bytes});
            }
            // The data region holds the tensors back to back, each padded to the alignment: every tensor starts
            // where the one before it ends (rounded up), and the file ends with the last one (padded or not). A
            // type or an alignment that disagrees with how the file was written breaks this; the data would be
            // read from the wrong bytes.
            ranges.sort((x, y) -> Long.compare(x[0], y[0]));
            long at = 0;
            for (long[] g : ranges) {
                if (g[0] < at) throw bad(file, "tensors overlap at data offset " + g[0]);
                if (g[0] != (at + alignment - 1) / alignment * alignment) {
                    throw bad(file, "a gap of " + (g[0] - at) + " bytes at data offset " + at + " (tensors follow one another, padded to the alignment of "
                            + alignment + "): a tensor's type or general.alignment disagrees with its data");
                }
                at = g[1];
            }
            long data = size - dataStart;
            if (!ranges.isEmpty() && (data < at || data > (at + alignment - 1) / alignment * alignment)) {
                throw bad(file, "the tensors end at data offset " + at + " but the data region is " + data + " bytes: a tensor's type or general.alignment disagrees with its data");
            }
            return new Model(file, meta, tensors);
        } catch (IOException e) {
            throw ReadFailure.of(file, e, "a GGUF file");
        }
    }

    /** A tensor's bytes as stored (any type). */
    public static byte[] readRaw(Model m, TensorInfo t) {
        try (Data d = Data.open(m)) {
            return d.raw(t);
        }
    }

    /** A tensor's data as F32: F32 copied, F16 widened, any other block type dequantized. */
    public static float[] readF32(Model m, TensorInfo t) {
        try (Data d = Data.open(m)) {
            return d.f32(t);
        }
    }

    /**
     * The data of a GGUF file mapped into memory for reading its tensors, unmapped by {@link #close}: each
     * tensor is copied from the page cache straight into its array (no buffer between, nothing for the
     * garbage collector, the file opened once for all of them). Single-threaded.
     */
    public static final class Data implements AutoCloseable {
        private static final java.lang.foreign.ValueLayout.OfFloat F32_LE =
                java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final java.lang.foreign.ValueLayout.OfShort F16_LE =
                java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private final Model m;
        private final java.lang.foreign.Arena arena;
        private final java.lang.foreign.MemorySegment file;

        private Data(Model m, java.lang.foreign.Arena arena, java.lang.foreign.MemorySegment file) {
            this.m = m;
            this.arena = arena;
            this.file = file;
        }

        /** Maps {@code m}'s file (read-only). */
        public static Data open(Model m) {
            java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined();
            try (FileChannel ch = FileChannel.open(m.path(), StandardOpenOption.READ)) {
                return new Data(m, arena, ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena));
            } catch (IOException | RuntimeException e) {
                arena.close();
                if (e instanceof IOException io) throw new StorageException(m.path() + ": cannot read the tensors: " + io.getMessage(), null, io);
                throw (RuntimeException) e;
            }
        }

        /** The segment of {@code t}'s bytes; the file must still hold them (it may have changed since its header was read). */
        private java.lang.foreign.MemorySegment bytes(TensorInfo t, long max) {
            if (t.bytes() > max) throw bad(m.path(), "tensor " + t.name() + " is too large to read at once");
            if (t.offset() < 0 || t.offset() + t.bytes() > file.byteSize()) {
                throw bad(m.path(), "tensor " + t.name() + ": offset " + t.offset() + " + " + t.bytes() + " bytes runs past the end of the file ("
                        + file.byteSize() + " bytes; did it change while being read?)");
            }
            return file.asSlice(t.offset(), t.bytes());
        }

        /** {@code t}'s bytes as stored (any type). */
        public byte[] raw(TensorInfo t) {
            try {
                return bytes(t, Integer.MAX_VALUE - 8).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            } catch (InternalError e) {
                throw cut(t, e);
            }
        }

        /** {@code t}'s data as F32: F32 copied, F16 widened, any other block type dequantized. */
        public float[] f32(TensorInfo t) {
            if (t.numel() > Integer.MAX_VALUE - 8) throw bad(m.path(), "tensor " + t.name() + " is too large to read at once");
            float[] out = new float[(int) t.numel()];
            if (t.type() != F32 && t.type() != F16) {
                dev.llmkit.core.quant.GgmlType.byId(t.type()).dequantize(raw(t), 0, out.length, out, 0);
                return out;
            }
            try {
                if (t.type() == F32) {
                    java.lang.foreign.MemorySegment.copy(bytes(t, 4L * out.length), F32_LE, 0, out, 0, out.length);
                } else {
                    java.lang.foreign.MemorySegment b = bytes(t, 2L * out.length);
                    for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(b.get(F16_LE, 2L * i));
                }
            } catch (InternalError e) {
                throw cut(t, e);
            }
            return out;
        }

        /** A mapped page that is gone (the JVM's error for a file cut while it is read): the file changed under the reader. */
        private DataException cut(TensorInfo t, InternalError e) {
            return new DataException(m.path() + ": tensor " + t.name() + " could not be read: the file was cut or changed while it was read ("
                    + e.getMessage() + ")", "read it again once nothing is writing it", e);
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /**
     * Bounds-checked reader over the header, read into memory as far as it goes (1 MiB first, then
     * doubling). Not a mapping: in a fresh JVM, mapping a file spins up the foreign-memory API's method
     * handles first, which took 60 ms of a 0.5 s model load.
     */
    private static final class Reader {
        private static final int MAX = Integer.MAX_VALUE - 8;
        /** The most header read (a 128k-token vocabulary and its merges take about 10 MiB). */
        static final int MAX_HEADER = 256 << 20;
        final Path file;
        final FileChannel ch;
        final long size;
        ByteBuffer b;          // the file's bytes [0, b.capacity())
        long pos;

        Reader(Path file, FileChannel ch, long size) throws IOException {
            this.file = file;
            this.ch = ch;
            this.size = Math.min(size, MAX);
            b = ByteBuffer.allocate((int) Math.min(this.size, 1 << 20)).order(ByteOrder.LITTLE_ENDIAN);
            Safetensors.readFully(ch, b, 0);
        }

        void need(long n) {
            if (n < 0 || pos + n > size) throw bad(file, "truncated header: needs " + Long.toUnsignedString(n) + " bytes at offset " + pos);
            if (pos + n > b.capacity()) grow(pos + n);
        }

        private void grow(long end) {
            if (end > MAX_HEADER) throw bad(file, "the header (metadata and tensor list) runs past " + (MAX_HEADER >> 20) + " MiB at offset " + pos);
            ByteBuffer more = ByteBuffer.allocate((int) Math.min(Math.min(size, MAX_HEADER), Math.max(end, 2L * b.capacity()))).order(ByteOrder.LITTLE_ENDIAN);
            more.put(0, b, 0, b.capacity()).position(b.capacity());
            try {
                Safetensors.readFully(ch, more, 0);
            } catch (IOException e) {
                throw ReadFailure.of(file, e, "a GGUF file");
            }
            b = more;
        }
        // Little-endian values read from the buffer's array by this class's own code: in a fresh process a header's
        // 8,000 strings (a 4,096-token vocabulary and its merges) ran through ByteBuffer's accessors and a decoder in the
        // interpreter, 37-69 ms of the model's load before the first token
        int u8() { need(1); return b.array()[(int) pos++] & 0xFF; }
        int u16() { need(2); byte[] a = b.array(); int p = (int) pos; pos += 2; return a[p] & 0xFF | (a[p + 1] & 0xFF) << 8; }
        int u32() { need(4); int v = int32(b.array(), (int) pos); pos += 4; return v; }
        long u64() { need(8); byte[] a = b.array(); int p = (int) pos; pos += 8; return int32(a, p) & 0xFFFFFFFFL | (long) int32(a, p + 4) << 32; }

        private static int int32(byte[] a, int p) {
            return a[p] & 0xFF | (a[p + 1] & 0xFF) << 8 | (a[p + 2] & 0xFF) << 16 | a[p + 3] << 24;
        }

        String str() {
            long n = u64();
            if (n > 1 << 24) throw bad(file, "string of " + n + " bytes at offset " + (pos - 8));
            need(n);
            byte[] a = b.array();
            int p = (int) pos, len = (int) n;
            pos += n;
            int i = p, end = p + len;
            while (i < end && a[i] >= 0) i++;
            if (i == end) return new String(a, p, len, StandardCharsets.ISO_8859_1);     // most keys and tokens: ASCII
            if (!validUtf8(a, i, end)) throw bad(file, "string at offset " + p + " is not valid UTF-8");
            return new String(a, p, len, StandardCharsets.UTF_8);
        }

        Value value(String key, int type) {
            return switch (type) {
                case T_U8, T_I8, T_BOOL -> new Value(type, -1, (long) u8());
                case T_U16, T_I16 -> new Value(type, -1, (long) u16());
                case T_U32 -> new Value(type, -1, (long) u32() & 0xFFFFFFFFL);
                case T_I32 -> new Value(type, -1, (long) u32());
                case T_F32 -> new Value(type, -1, Float.intBitsToFloat(u32()));
                case T_U64, T_I64 -> new Value(type, -1, u64());
                case T_F64 -> new Value(type, -1, Double.longBitsToDouble(u64()));
                case T_STRING -> new Value(type, -1, str());
                case T_ARRAY -> array(key);
                default -> throw bad(file, "metadata " + key + ": unknown value type " + Integer.toUnsignedString(type));
            };
        }

        private Value array(String key) {
            int elem = u32();
            long n = u64();
            long minBytes = switch (elem) {
                case T_U8, T_I8, T_BOOL -> 1;
                case T_U16, T_I16 -> 2;
                case T_U32, T_I32, T_F32 -> 4;
                default -> 8;       // 64-bit values, and strings (at least their u64 length)
            };
            if (n < 0 || n > (size - pos) / minBytes || n > MAX_ARRAY) {
                throw bad(file, "metadata " + key + ": array of " + Long.toUnsignedString(n) + " elements cannot fit in the file");
            }
            if (elem == T_STRING) {
                List<String> l = new ArrayList<>((int) Math.min(n, 1 << 16));
                for (long i = 0; i < n; i++) l.add(str());
                return new Value(T_ARRAY, elem, l);
            }
            if (elem == T_ARRAY) throw bad(file, "metadata " + key + ": nested arrays are not supported");
            long[] a = new long[(int) n];
            for (int i = 0; i < n; i++) {
                Value v = value(key, elem);
                a[i] = v.value() instanceof Float f ? Float.floatToRawIntBits(f) : v.value() instanceof Double d ? Double.doubleToRawLongBits(d) : (long) v.value();
            }
            return new Value(T_ARRAY, elem, a);
        }
    }

    /**
     * Whether a[i, end) is well-formed UTF-8 as RFC 3629 has it (what a strict decoder accepts): no overlong forms,
     * no surrogates, nothing past U+10FFFF, no sequence cut short.
     */
    static boolean validUtf8(byte[] a, int i, int end) {
        while (i < end) {
            int c = a[i] & 0xFF;
            if (c < 0x80) {
                i++;
                continue;
            }
            int more = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : -1;
            if (more < 0 || end - i <= more) return false;
            int c1 = a[i + 1] & 0xFF;
            if (c == 0xE0 && c1 < 0xA0 || c == 0xED && c1 > 0x9F || c == 0xF0 && c1 < 0x90 || c == 0xF4 && c1 > 0x8F) return false;
            for (int k = 1; k <= more; k++) if ((a[i + k] & 0xC0) != 0x80) return false;
            i += more + 1;
        }
        return true;
    }

    private static DataException bad(Path file, String problem) {
        return new DataException(file + ": " + problem, "the GGUF file is damaged or not a model llmkit can read");
    }
}
