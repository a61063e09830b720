package dev.llmkit.core.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.DataException;
import dev.llmkit.core.model.Tensor;
import dev.llmkit.core.quant.GgmlType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: {@code u64 LE n}, n bytes of JSON header
 * {@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {...}}},
 * then the raw little-endian data (offsets relative to the end of the header). We write F32, F16
 * (IEEE half, {@link Float#floatToFloat16}) or BF16 (the upper half of F32, rounded to nearest even)
 * with the header padded by spaces to a multiple of 8; we read the same three (converted to F32). The reader
 * checks the header size, every dtype, shape and offset against the file before allocating, and that
 * tensors neither overlap nor run past the end.
 */
public final class Safetensors {
    private Safetensors() {}

    static final long MAX_HEADER = 100L << 20;
    /** Created on first use: GGUF loading shares {@link #readFully} and must not pay for a mapper. */
    private static final class Plain {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    /** Writes every tensor as F32. */
    public static void write(Path file, List<Tensor> tensors, Map<String, String> metadata) {
        write(file, tensors, metadata, GgmlType.F32);
    }

    /** The safetensors dtype of a type this class writes: F32, F16 or BF16. */
    public static String dtype(GgmlType type) {
        return switch (type) {
            case F32 -> "F32";
            case F16 -> "F16";
            case BF16 -> "BF16";
            default -> throw new IllegalArgumentException("safetensors holds no " + type + " tensors here (F32, F16, BF16)");
        };
    }

    /** Writes every tensor as {@code type} (F32, F16 or BF16), converting from F32 as {@link GgmlType#quantize} does. */
    public static void write(Path file, List<Tensor> tensors, Map<String, String> metadata, GgmlType type) {
        String dtype = dtype(type);
        int width = type.blockBytes;
        ByteArrayOutputStream hb = new ByteArrayOutputStream();
        long offset = 0;
        try (JsonGenerator g = new JsonFactory().createGenerator(hb)) {
            g.writeStartObject();
            g.writeObjectFieldStart("__metadata__");
            for (Map.Entry<String, String> e : metadata.entrySet()) g.writeStringField(e.getKey(), e.getValue());
            g.writeEndObject();
            for (Tensor t : tensors) {
                g.writeObjectFieldStart(t.name());
                g.writeStringField("dtype", dtype);
                g.writeArrayFieldStart("shape");
                for (int d : t.shape()) g.writeNumber(d);
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(offset + (long) width * t.size());
                g.writeEndArray();
                g.writeEndObject();
                offset += (long) width * t.size();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        byte[] header = hb.toByteArray();
        int padded = (header.length + 7) / 8 * 8;
        byte[] h = java.util.Arrays.copyOf(header, padded);
        java.util.Arrays.fill(h, header.length, padded, (byte) ' ');
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(h);
            int chunk = 1 << 14;
            byte[] buf = new byte[chunk * width];
            for (Tensor t : tensors) {
                float[] data = t.data();
                for (int i = 0; i < data.length; i += chunk) {
                    int n = Math.min(chunk, data.length - i);
                    type.quantize(data, i, n, buf, 0);      // little-endian F32, F16 or BF16
                    out.write(buf, 0, n * width);
                }
            }
        });
    }

    /** Reads all tensors, in file order, as F32. */
    public static Map<String, Tensor> read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw bad(file, "file is " + size + " bytes, too short for a safetensors header");
            ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lb, 0);
            long n = lb.getLong(0);
            if (n < 2 || n > MAX_HEADER || n > size - 8) throw bad(file, "header length " + n + " is impossible for a " + size + "-byte file");
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8);
            JsonNode header;
            try {
                header = Plain.MAPPER.readTree(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw bad(file, "header is not valid JSON");
            }
            if (header == null || !header.isObject()) throw bad(file, "header is not a JSON object");
            long dataStart = 8 + n, dataLen = size - dataStart;
            // 1. Check every entry (dtype, shape, offsets, overlaps) before allocating anything.
            List<Entry> entries = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getKey().equals("__metadata__")) entries.add(entry(file, e.getKey(), e.getValue(), dataLen));
            }
            List<Entry> sorted = new ArrayList<>(entries);
            sorted.sort((a, b) -> Long.compare(a.begin(), b.begin()));
            // the format's rule: the tensors tile the data region exactly (no gap, no overlap, nothing after
            // the last); a header length or a dtype changed by damage breaks the tiling
            long at = 0;
            for (Entry e : sorted) {
                if (e.begin() < at) throw bad(file, "tensors overlap at data offset " + e.begin() + " (tensor " + e.name() + ")");
                if (e.begin() > at) throw bad(file, "a gap of " + (e.begin() - at) + " bytes at data offset " + at + " before tensor " + e.name() + " (tensors must tile the data)");
                at = e.end();
            }
            if (at != dataLen) throw bad(file, "the tensors end at data offset " + at + " but the data region is " + dataLen + " bytes (tensors must tile the data)");
            // 2. Read.
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Entry e : entries) out.put(e.name(), read(ch, e, dataStart));
            return out;
        } catch (IOException e) {
            throw ReadFailure.of(file, e, "a model.safetensors file");
        }
    }

    private record Entry(String name, String dtype, int width, int[] dims, long numel, long begin, long end) {}

    private static Entry entry(Path file, String name, JsonNode t, long dataLen) {
        String dtype = t.path("dtype").asText("");
        int width = switch (dtype) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw bad(file, "tensor " + name + ": unsupported dtype \"" + dtype + "\" (F32, F16, BF16)");
        };
        JsonNode shape = t.path("shape"), offs = t.path("data_offsets");
        if (!shape.isArray() || shape.size() > 4) throw bad(file, "tensor " + name + ": bad shape " + shape);
        int[] dims = new int[shape.size()];
        long numel = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.canConvertToInt() || d.asInt() < 0) throw bad(file, "tensor " + name + ": bad dimension " + d);
            dims[i] = d.asInt();
            numel *= dims[i];
            if (numel > Integer.MAX_VALUE - 8) throw bad(file, "tensor " + name + ": too many elements");
        }
        if (!offs.isArray() || offs.size() != 2 || !offs.get(0).canConvertToLong() || !offs.get(1).canConvertToLong()) {
            throw bad(file, "tensor " + name + ": bad data_offsets " + offs);
        }
        long b = offs.get(0).asLong(), e = offs.get(1).asLong();
        if (b < 0 || e < b || e > dataLen) throw bad(file, "tensor " + name + ": data_offsets [" + b + ", " + e + "] outside the " + dataLen + " data bytes");
        if (e - b != numel * width) throw bad(file, "tensor " + name + ": " + (e - b) + " bytes for " + numel + " " + dtype + " values");
        return new Entry(name, dtype, width, dims, numel, b, e);
    }

    private static Tensor read(FileChannel ch, Entry en, long dataStart) throws IOException {
        float[] data = new float[(int) en.numel()];
        ByteBuffer buf = ByteBuffer.allocate((int) Math.max(1, Math.min(en.end() - en.begin(), 1 << 20))).order(ByteOrder.LITTLE_ENDIAN);
        long pos = dataStart + en.begin();
        int i = 0;
        while (i < data.length) {
            buf.clear();
            buf.limit((int) Math.min(buf.capacity(), (data.length - i) * (long) en.width()));
            readFully(ch, buf, pos);
            pos += buf.limit();
            buf.flip();
            if (en.width() == 4) {     // a bulk copy: fast even before the JIT has compiled anything (a fresh process)
                int n = buf.remaining() / 4;
                buf.asFloatBuffer().get(data, i, n);
                buf.position(buf.position() + 4 * n);
                i += n;
            }
            while (buf.hasRemaining()) {
                data[i++] = switch (en.width()) {
                    case 4 -> buf.getFloat();
                    default -> en.dtype().equals("F16") ? Float.float16ToFloat(buf.getShort()) : Float.intBitsToFloat((buf.getShort() & 0xFFFF) << 16);
                };
            }
        }
        return new Tensor(en.name(), en.dims(), data);
    }

    static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos + b.position());
            if (r < 0) throw new java.io.EOFException("unexpected end of file");
        }
    }

    private static DataException bad(Path file, String problem) {
        return new DataException(file + ": " + problem, "the safetensors file is damaged or not a model checkpoint");
    }
}
