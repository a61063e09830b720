package dev.llmkit.core.quant;

import dev.llmkit.core.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which block type each tensor of a Llama model gets for a quantization preset: llama.cpp's
 * {@code llama_tensor_get_type} rules (llama.cpp c392e50, no importance matrix) for this architecture.
 * <ul>
 *   <li>1-D tensors (norms) stay F32.</li>
 *   <li>The output matrix, or the token embedding when it is tied to the output, gets Q6_K (Q8_0 when
 *       its rows are not whole blocks of the preset's type, or when the preset is Q8_0).</li>
 *   <li>Q4_K_M and Q5_K_M: attn_v and ffn_down of the "more bits" layers (the first and last eighth,
 *       and every third in between) get Q6_K; Q4_K_S: the first 4 attn_v get Q5_K and the first
 *       eighth of ffn_down get Q5_K.</li>
 *   <li>A row length that is not a whole number of the chosen type's blocks falls back per tensor:
 *       Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, and anything still not fitting to F16 (where
 *       llama-quantize stops with "Unsupported tensor size", llmkit falls back and says so).</li>
 * </ul>
 * {@code pure} skips the mixture rules (every matrix gets the preset's type); overrides
 * ({@code NAME=TYPE}, NAME a regular expression found in the tensor name) win over every rule.
 * Fallbacks apply in every case.
 */
public final class QuantPlan {
    /** A preset: its name, the default type of its matrices, and llama.cpp's general.file_type id. */
    public enum Preset {
        F32("f32", GgmlType.F32, 0), F16("f16", GgmlType.F16, 1), BF16("bf16", GgmlType.BF16, 32),
        Q8_0("q8_0", GgmlType.Q8_0, 7), Q4_0("q4_0", GgmlType.Q4_0, 2), Q4_1("q4_1", GgmlType.Q4_1, 3),
        Q5_0("q5_0", GgmlType.Q5_0, 8), Q5_1("q5_1", GgmlType.Q5_1, 9), Q4_K_S("q4_k_s", GgmlType.Q4_K, 14),
        Q4_K_M("q4_k_m", GgmlType.Q4_K, 15), Q5_K_M("q5_k_m", GgmlType.Q5_K, 17), Q6_K("q6_k", GgmlType.Q6_K, 18);

        public final String label;
        public final GgmlType base;
        public final int fileType;

        Preset(String label, GgmlType base, int fileType) {
            this.label = label;
            this.base = base;
            this.fileType = fileType;
        }

        /** Whether the default type is a block-quantized one (the mixture rules and fallbacks apply). */
        public boolean quantized() {
            return base.blockSize > 1;
        }

        public static Preset parse(String s) {
            for (Preset p : values()) if (p.label.equalsIgnoreCase(s.trim())) return p;
            throw new ConfigException("unknown quantization type \"" + s + "\"", "use one of " + labels());
        }

        public static String labels() {
            StringBuilder b = new StringBuilder();
            for (Preset p : values()) b.append(b.isEmpty() ? "" : ", ").append(p.label);
            return b.toString();
        }
    }

    /** One tensor's decision: the type, and why when it is not the preset's default (null otherwise). */
    public record Choice(GgmlType type, String reason) {}

    private record Override(Pattern pattern, GgmlType type, String text) {}

    private final Preset preset;
    private final boolean pure;
    private final int nLayers;
    private final boolean hasOutput;
    private final List<Override> overrides = new ArrayList<>();

    /**
     * @param hasOutput whether the model has its own output.weight (false: tied to token_embd)
     * @param overrides {@code NAME=TYPE} strings, NAME a regular expression searched in the tensor name
     */
    public QuantPlan(Preset preset, boolean pure, int nLayers, boolean hasOutput, List<String> overrides) {
        this.preset = preset;
        this.pure = pure;
        this.nLayers = nLayers;
        this.hasOutput = hasOutput;
        for (String o : overrides) {
            int eq = o.lastIndexOf('=');
            if (eq <= 0 || eq == o.length() - 1) throw new ConfigException("--tensor-type \"" + o + "\" is not NAME=TYPE", "for example --tensor-type attn_v=q8_0");
            GgmlType t = typeNamed(o.substring(eq + 1));
            try {
                this.overrides.add(new Override(Pattern.compile(o.substring(0, eq)), t, o));
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new ConfigException("--tensor-type \"" + o + "\": " + e.getDescription(), "NAME is a regular expression searched in each tensor name");
            }
        }
    }

    public Preset preset() {
        return preset;
    }

    /** A GGML type by name (q8_0, q4_k, f16, ...), for overrides. */
    public static GgmlType typeNamed(String s) {
        for (GgmlType t : GgmlType.values()) if (t.name().equalsIgnoreCase(s.trim())) return t;
        StringBuilder b = new StringBuilder();
        for (GgmlType t : GgmlType.values()) b.append(b.isEmpty() ? "" : ", ").append(t.name().toLowerCase(Locale.ROOT));
        throw new ConfigException("unknown tensor type \"" + s + "\"", "use one of " + b);
    }

    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    /** The type of tensor {@code name} of shape {@code shape} (PyTorch order, rows of shape[last]). */
    public Choice choose(String name, int[] shape) {
        if (shape.length < 2) return new Choice(GgmlType.F32, null);
        long cols = shape[shape.length - 1];
        GgmlType t = preset.base;
        String reason = null;
        Override o = null;
        for (Override ov : overrides) if (ov.pattern.matcher(name).find()) o = ov;
        if (o != null) {
            t = o.type;
            reason = "--tensor-type " + o.text;
        } else if (preset.quantized() && !pure) {
            boolean output = name.equals("output.weight") || (!hasOutput && name.equals("token_embd.weight"));
            Matcher m = LAYER.matcher(name);
            int layer = m.find() ? Integer.parseInt(m.group(1)) : -1;
            if (output) {
                if (cols % t.blockSize != 0) {
                    t = GgmlType.Q8_0;
                    reason = "output matrix";
                } else if (t != GgmlType.Q8_0) {
                    t = GgmlType.Q6_K;
                    reason = "output matrix";
                }
            } else if (name.contains("attn_v.weight") && layer >= 0) {
                if ((preset == Preset.Q4_K_M || preset == Preset.Q5_K_M) && moreBits(layer, nLayers)) {
                    t = GgmlType.Q6_K;
                    reason = "attn_v of a more-bits layer";
                } else if (preset == Preset.Q4_K_S && layer < 4) {
                    t = GgmlType.Q5_K;
                    reason = "one of the first 4 attn_v";
                }
            } else if (name.contains("ffn_down") && layer >= 0) {
                if ((preset == Preset.Q4_K_M || preset == Preset.Q5_K_M) && moreBits(layer, nLayers)) {
                    t = GgmlType.Q6_K;
                    reason = "ffn_down of a more-bits layer";
                } else if (preset == Preset.Q4_K_S && layer < nLayers / 8) {
                    t = GgmlType.Q5_K;
                    reason = "ffn_down of the first eighth";
                }
            }
        }
        if (cols % t.blockSize != 0) {
            GgmlType f = switch (t) {
                case Q4_K -> GgmlType.Q5_0;
                case Q5_K -> GgmlType.Q5_1;
                case Q6_K -> GgmlType.Q8_0;
                default -> GgmlType.F16;
            };
            if (cols % f.blockSize != 0) f = GgmlType.F16;
            reason = "rows of " + cols + " are not whole " + t + " blocks of " + t.blockSize + ": fallback " + f
                    + (reason == null ? "" : " (" + reason + ")");
            t = f;
        }
        return new Choice(t, reason);
    }

    /** llama.cpp's use_more_bits: the first and last eighth of the layers and every third one between. */
    static boolean moreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }
}
