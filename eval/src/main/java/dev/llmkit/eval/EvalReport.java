package dev.llmkit.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.Json;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Renders the content of {@code report.json} (several models scored on the same tasks) into
 * {@code report.md} (plain GitHub markdown tables) and {@code report.html} (self-contained: inline
 * CSS, the same tables, and XChart charts embedded as base64 PNG data URIs). Both are written atomically.
 */
public final class EvalReport {
    private EvalReport() {}

    private static final String NONE = "-";

    /** Writes {@code dir/report.md} and {@code dir/report.html} from the report JSON. */
    public static void write(JsonNode report, Path dir) {
        AtomicFiles.write(dir.resolve("report.md"), markdown(report).getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(dir.resolve("report.html"), html(report, dir).getBytes(StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------- reading the JSON

    /** One cell: a metric's value and its standard error, either possibly absent. */
    private record Stat(Double value, Double stderr) {}

    private static List<JsonNode> list(JsonNode n) {
        List<JsonNode> out = new ArrayList<>();
        if (n != null && n.isArray()) n.forEach(out::add);
        return out;
    }

    /** A field as text; "" when absent or null. */
    private static String text(JsonNode n, String field) {
        JsonNode v = n == null ? null : n.get(field);
        if (v == null || v.isNull() || v.isMissingNode()) return "";
        return v.isValueNode() ? v.asText() : v.toString();
    }

    /** A number, or null when absent, null or not numeric ("NaN"/"Infinity" strings are accepted). */
    private static Double num(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) return null;
        if (v.isNumber()) return v.doubleValue();
        if (v.isTextual()) {
            try {
                return Double.valueOf(v.asText().trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    private static List<String> modelNames(JsonNode report) {
        List<String> names = new ArrayList<>();
        for (JsonNode m : list(report.get("models"))) names.add(text(m, "name"));
        return names;
    }

    /** The task's declared metrics, then any others its results carry (per-attribute ones), in order. */
    private static List<String> metricNames(JsonNode task) {
        Set<String> names = new LinkedHashSet<>();
        for (JsonNode m : list(task.get("metrics"))) if (!m.isNull()) names.add(m.asText());
        JsonNode results = task.get("results");
        if (results != null && results.isObject()) {
            for (JsonNode r : results) {
                JsonNode metrics = r.get("metrics");
                if (metrics != null && metrics.isObject()) metrics.fieldNames().forEachRemaining(names::add);
            }
        }
        return new ArrayList<>(names);
    }

    /** The model's result for the task, or null. */
    private static JsonNode result(JsonNode task, String model) {
        JsonNode results = task.get("results");
        JsonNode r = results == null ? null : results.get(model);
        return r == null || r.isNull() || !r.isObject() ? null : r;
    }

    private static Stat stat(JsonNode task, String model, String metric) {
        JsonNode r = result(task, model);
        JsonNode m = r == null ? null : r.path("metrics").get(metric);
        if (m == null || m.isNull()) return new Stat(null, null);
        if (m.isNumber() || m.isTextual()) return new Stat(num(m), null);
        return new Stat(num(m.get("value")), num(m.get("stderr")));
    }

    /** The chance level of a metric (exact match and its groups), "-" for others. */
    private static String chanceCell(JsonNode task, String metric) {
        JsonNode v = task.path("chance").get(metric);
        return v == null || !v.isNumber() ? "-" : String.format(Locale.ROOT, "%.4f", v.asDouble());
    }

    static boolean lowerIsBetter(String metric) {
        String m = metric.toLowerCase(Locale.ROOT);
        return m.contains("perplexity") || m.contains("bits_per_byte") || m.contains("bpb") || m.contains("loss");
    }

    // ---------------------------------------------------------------- formatting

    private static String fmt(double v, boolean lower) {
        if (Double.isNaN(v)) return "NaN";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        return String.format(Locale.ROOT, lower ? "%.3f" : "%.4f", v);
    }

    /** "0.6100 ± 0.0480"; perplexity-like metrics get 3 decimals; "-" when there is no value. */
    static String cell(Stat s, String metric) {
        if (s.value() == null) return NONE;
        boolean lower = lowerIsBetter(metric);
        String v = fmt(s.value(), lower);
        return s.stderr() == null || !Double.isFinite(s.stderr()) ? v : v + " ± " + fmt(s.stderr(), lower);
    }

    private static String label(String metric) {
        return metric + (lowerIsBetter(metric) ? " (lower is better)" : " (higher is better)");
    }

    private static String examplesPerSecond(JsonNode task, String model) {
        JsonNode r = result(task, model);
        Double eps = r == null ? null : num(r.get("examples_per_second"));
        if (eps == null) {     // derive it when only examples and seconds are there
            Double n = r == null ? null : num(r.get("examples")), s = r == null ? null : num(r.get("seconds"));
            if (n != null && s != null && s > 0) eps = n / s;
        }
        return eps == null || !Double.isFinite(eps) ? NONE : String.format(Locale.ROOT, "%.2f", eps);
    }

    private static String parameters(JsonNode model) {
        Double p = num(model.get("parameters"));
        return p == null ? NONE : String.format(Locale.ROOT, "%,d", p.longValue());
    }

    private static String sizeMb(JsonNode model) {
        Double b = num(model.get("bytes"));
        return b == null ? NONE : String.format(Locale.ROOT, "%.1f", b / 1e6);
    }

    private static String orNone(String s) {
        return s.isEmpty() ? NONE : s;
    }

    private static String configLine(JsonNode report) {
        List<String> parts = new ArrayList<>();
        JsonNode config = report.get("config");
        if (config != null && config.isObject()) {
            config.fields().forEachRemaining(e ->
                    parts.add(e.getKey() + "=" + (e.getValue().isNull() ? "none" : e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString())));
        }
        return String.join(", ", parts);
    }

    private static String createdLine(JsonNode report) {
        String created = text(report, "created"), version = text(report, "llmkit_version");
        StringBuilder sb = new StringBuilder();
        if (!created.isEmpty()) sb.append("Created ").append(created);
        if (!version.isEmpty()) sb.append(sb.isEmpty() ? "Written" : "").append(" by llmkit ").append(version);
        return sb.toString().trim();
    }

    private static String taskInfo(JsonNode task) {
        List<String> parts = new ArrayList<>();
        if (!text(task, "type").isEmpty()) parts.add(text(task, "type"));
        if (!text(task, "examples").isEmpty()) parts.add(text(task, "examples") + " examples");
        if (!text(task, "fewshot").isEmpty()) parts.add(text(task, "fewshot") + "-shot");
        if (!text(task, "data").isEmpty()) parts.add("data: " + text(task, "data"));
        return String.join(" · ", parts);
    }

    // ---------------------------------------------------------------- markdown

    /** Text for a markdown table cell or line: no pipes, no newlines, no raw HTML. */
    private static String md(String s) {
        return s.replace("\r", " ").replace("\n", " ").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static void mdRow(StringBuilder sb, List<String> cells) {
        sb.append('|');
        for (String c : cells) sb.append(' ').append(c).append(" |");
        sb.append('\n');
    }

    static String markdown(JsonNode report) {
        List<String> models = modelNames(report);
        StringBuilder sb = new StringBuilder("# llmkit eval report\n\n");
        String created = createdLine(report);
        if (!created.isEmpty()) sb.append(md(created)).append("\n\n");
        sb.append("Config: ").append(md(orNone(configLine(report)))).append("\n\n");

        sb.append("## Models\n\n");
        mdRow(sb, List.of("name", "path", "storage", "parameters", "size (MB)"));
        sb.append("|---|---|---|---:|---:|\n");
        for (JsonNode m : list(report.get("models"))) {
            mdRow(sb, List.of(md(text(m, "name")), md(orNone(text(m, "path"))), md(orNone(text(m, "storage"))),
                    parameters(m), sizeMb(m)));
        }

        sb.append("\n## Tasks\n");
        for (JsonNode task : list(report.get("tasks"))) {
            sb.append("\n### ").append(md(text(task, "name"))).append("\n\n");
            String info = taskInfo(task);
            if (!info.isEmpty()) sb.append(md(info)).append("\n\n");
            String description = text(task, "description");
            if (!description.isEmpty()) sb.append(md(description)).append("\n\n");
            boolean chance = task.has("chance");
            List<String> header = new ArrayList<>(List.of("metric"));
            models.forEach(m -> header.add(md(m)));
            if (chance) header.add("chance");
            mdRow(sb, header);
            sb.append("|---").append("|---:".repeat(models.size() + (chance ? 1 : 0))).append("|\n");
            for (String metric : metricNames(task)) {
                List<String> row = new ArrayList<>(List.of(md(label(metric))));
                for (String model : models) row.add(cell(stat(task, model, metric), metric));
                if (chance) row.add(chanceCell(task, metric));
                mdRow(sb, row);
            }
            List<String> row = new ArrayList<>(List.of("examples/s"));
            for (String model : models) row.add(examplesPerSecond(task, model));
            if (chance) row.add("");
            mdRow(sb, row);
            if (chance) sb.append("\nChance: ").append(md(text(task.get("chance"), "rule"))).append(", given to every question.\n");
            List<JsonNode> examples = list(task.get("examples_shown"));
            if (!examples.isEmpty()) {
                sb.append("\nExamples:\n\n");
                List<String> h = new ArrayList<>(List.of("prompt", "target"));
                models.forEach(m -> h.add(md(m)));
                mdRow(sb, h);
                sb.append("|---|---").append("|---".repeat(models.size())).append("|\n");
                for (JsonNode e : examples) {
                    List<String> cells = new ArrayList<>(List.of(md(text(e, "prompt")), md(text(e, "target"))));
                    for (String model : models) cells.add(md(orNone(e.path("outputs").path(model).asText(""))));
                    mdRow(sb, cells);
                }
            }
        }
        List<JsonNode> stages = list(report.path("pipeline").get("stages"));
        if (!stages.isEmpty()) {
            sb.append("\n## Pipeline\n\n");
            mdRow(sb, List.of("stage", "seconds", "figures"));
            sb.append("|---|---:|---|\n");
            for (JsonNode st : stages) mdRow(sb, List.of(md(text(st, "stage")), String.format(java.util.Locale.ROOT, "%.1f", st.path("seconds").asDouble()), md(st.path("summary").toString())));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- HTML

    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    private static final String CSS = """
            body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222;background:#fff}
            h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{margin-top:1.6em}
            .meta{color:#555}.desc{color:#333;font-style:italic}
            table{border-collapse:collapse;margin:.6em 0}
            th,td{border:1px solid #ccc;padding:.3em .7em}
            th{background:#f3f3f3;text-align:left}
            td.num{text-align:right;font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap}
            tr.speed td{color:#555}
            figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
            figcaption{color:#555;font-size:.9em}
            """;

    private static void htmlRow(StringBuilder sb, String tag, List<String> escapedCells, boolean numeric, String rowClass) {
        sb.append(rowClass == null ? "<tr>" : "<tr class=\"" + rowClass + "\">");
        for (int i = 0; i < escapedCells.size(); i++) {
            boolean num = numeric && i > 0 && tag.equals("td");
            sb.append('<').append(tag).append(num ? " class=\"num\"" : "").append('>')
                    .append(escapedCells.get(i)).append("</").append(tag).append('>');
        }
        sb.append("</tr>\n");
    }

    private static void image(StringBuilder sb, byte[] png, String alt) {
        sb.append("<figure><img src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(png))
                .append("\" alt=\"").append(escape(alt)).append("\"></figure>\n");
    }

    static String html(JsonNode report, Path dir) {
        List<String> models = modelNames(report);
        StringBuilder sb = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.append("<title>llmkit eval report</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");
        sb.append("<h1>llmkit eval report</h1>\n");
        String created = createdLine(report);
        if (!created.isEmpty()) sb.append("<p class=\"meta\">").append(escape(created)).append("</p>\n");
        sb.append("<p class=\"meta\">Config: ").append(escape(orNone(configLine(report)))).append("</p>\n");

        sb.append("<h2>Models</h2>\n<table>\n");
        htmlRow(sb, "th", List.of("name", "path", "storage", "parameters", "size (MB)"), false, null);
        for (JsonNode m : list(report.get("models"))) {
            sb.append("<tr><td>").append(escape(text(m, "name"))).append("</td><td>").append(escape(orNone(text(m, "path"))))
                    .append("</td><td>").append(escape(orNone(text(m, "storage"))))
                    .append("</td><td class=\"num\">").append(escape(parameters(m)))
                    .append("</td><td class=\"num\">").append(escape(sizeMb(m))).append("</td></tr>\n");
        }
        sb.append("</table>\n");

        sb.append("<h2>Tasks</h2>\n");
        for (JsonNode task : list(report.get("tasks"))) {
            String name = text(task, "name");
            sb.append("<h3>").append(escape(name)).append("</h3>\n");
            String info = taskInfo(task);
            if (!info.isEmpty()) sb.append("<p class=\"meta\">").append(escape(info)).append("</p>\n");
            String description = text(task, "description");
            if (!description.isEmpty()) sb.append("<p class=\"desc\">").append(escape(description)).append("</p>\n");
            sb.append("<table>\n");
            boolean chance = task.has("chance");
            List<String> header = new ArrayList<>(List.of("metric"));
            models.forEach(m -> header.add(escape(m)));
            if (chance) header.add("chance");
            htmlRow(sb, "th", header, false, null);
            List<String> metrics = metricNames(task);
            for (String metric : metrics) {
                List<String> row = new ArrayList<>(List.of(escape(label(metric))));
                for (String model : models) row.add(escape(cell(stat(task, model, metric), metric)));
                if (chance) row.add(escape(chanceCell(task, metric)));
                htmlRow(sb, "td", row, true, null);
            }
            List<String> row = new ArrayList<>(List.of("examples/s"));
            for (String model : models) row.add(escape(examplesPerSecond(task, model)));
            if (chance) row.add("");
            htmlRow(sb, "td", row, true, "speed");
            sb.append("</table>\n");
            if (chance) sb.append("<p class=\"meta\">chance: ").append(escape(text(task.get("chance"), "rule"))).append(", given to every question</p>\n");
            byte[] png = taskChart(task, name, models, metrics);
            if (png != null) image(sb, png, name + ": metrics per model");
            List<JsonNode> examples = list(task.get("examples_shown"));
            if (!examples.isEmpty()) {
                sb.append("<table>\n");
                List<String> h = new ArrayList<>(List.of("prompt", "target"));
                models.forEach(m -> h.add(escape(m)));
                htmlRow(sb, "th", h, false, null);
                for (JsonNode e : examples) {
                    List<String> cells = new ArrayList<>(List.of(escape(text(e, "prompt")), escape(text(e, "target"))));
                    for (String model : models) cells.add(escape(orNone(e.path("outputs").path(model).asText(""))));
                    htmlRow(sb, "td", cells, false, null);
                }
                sb.append("</table>\n");
            }
        }
        List<JsonNode> stages = list(report.path("pipeline").get("stages"));
        if (!stages.isEmpty()) {
            sb.append("<h2>Pipeline</h2>\n<table>\n");
            htmlRow(sb, "th", List.of("stage", "seconds", "figures"), false, null);
            for (JsonNode st : stages) {
                htmlRow(sb, "td", List.of(escape(text(st, "stage")), String.format(java.util.Locale.ROOT, "%.1f", st.path("seconds").asDouble()),
                        escape(st.path("summary").toString())), false, null);
            }
            sb.append("</table>\n");
        }

        List<LossCurve> curves = lossCurves(report, dir);
        if (!curves.isEmpty()) {
            sb.append("<h2>Training</h2>\n");
            for (LossCurve c : curves) {
                String title = "training loss: " + String.join(", ", c.models());
                sb.append("<h3>").append(escape(String.join(", ", c.models()))).append("</h3>\n");
                sb.append("<p class=\"meta\">").append(escape(c.source())).append("</p>\n");
                image(sb, lossChart(c, title), title);
            }
        }
        sb.append("</body>\n</html>\n");
        return sb.toString();
    }

    // ---------------------------------------------------------------- charts

    private static byte[] png(Chart<?, ?> chart) {
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render chart: " + e.getMessage(), e);
        }
    }

    private static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    /** One model's bars in a task chart. */
    private record Bars(String name, List<Double> values, List<Double> errors, boolean hasErrors) {}

    /**
     * A grouped bar chart: one group per metric, one bar per model, error bars where stderr exists;
     * null when nothing to draw. Positive values spanning more than a factor 20 (word against byte
     * perplexity) get a log axis, drawn without error bars (XChart cannot place them on one).
     */
    private static byte[] taskChart(JsonNode task, String name, List<String> models, List<String> metrics) {
        if (metrics.isEmpty()) return null;
        List<Bars> bars = new ArrayList<>();
        double max = 0, min = Double.POSITIVE_INFINITY;
        Set<String> seen = new LinkedHashSet<>();
        for (String model : models) {
            if (result(task, model) == null) continue;
            List<Double> y = new ArrayList<>(), err = new ArrayList<>();
            boolean anyValue = false, anyErr = false;
            for (String metric : metrics) {
                Stat s = stat(task, model, metric);
                boolean ok = s.value() != null && Double.isFinite(s.value());
                boolean e = ok && s.stderr() != null && Double.isFinite(s.stderr()) && s.stderr() >= 0;
                y.add(ok ? s.value() : null);
                err.add(e ? s.stderr() : 0.0);
                anyValue |= ok;
                anyErr |= e;
                if (ok) {
                    max = Math.max(max, s.value() + (e ? s.stderr() : 0));
                    min = Math.min(min, s.value());
                }
            }
            if (!anyValue) continue;
            String series = model;
            for (int i = 2; !seen.add(series); i++) series = model + " (" + i + ")";
            bars.add(new Bars(series, y, err, anyErr));
        }
        if (bars.isEmpty()) return null;

        boolean anyLower = metrics.stream().anyMatch(EvalReport::lowerIsBetter);
        boolean allLower = metrics.stream().allMatch(EvalReport::lowerIsBetter);
        boolean log = min > 0 && max / min > 20;
        String yTitle = (allLower ? "value (lower is better)" : anyLower ? "value" : "value (higher is better)")
                + (log ? ", log scale" : "");
        headless();
        CategoryChart chart = new CategoryChartBuilder().width(900).height(460).title(name).xAxisTitle("metric").yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridVerticalLinesVisible(false);
        chart.getStyler().setAvailableSpaceFill(0.8).setOverlapped(false);
        if (metrics.size() > 4) chart.getStyler().setXAxisLabelRotation(30);
        if (log) {
            chart.getStyler().setYAxisLogarithmic(true);
            chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(min / 2))));
        } else {
            chart.getStyler().setYAxisMin(0.0);
            if (!anyLower && max <= 1.0) chart.getStyler().setYAxisMax(1.0);     // fractions: the full 0..1 scale
        }
        for (Bars b : bars) {
            // XChart cannot draw error bars on a series with a missing bar: such a series goes without them
            if (b.hasErrors() && !log && !b.values().contains(null)) chart.addSeries(b.name(), metrics, b.values(), b.errors());
            else chart.addSeries(b.name(), metrics, b.values());
        }
        return png(chart);
    }

    /** Training curves read from one metrics.jsonl, shared by the models that name it. */
    private record LossCurve(List<String> models, String source, List<double[]> train, List<double[]> val) {}

    private static List<LossCurve> lossCurves(JsonNode report, Path dir) {
        Map<Path, List<String>> byFile = new LinkedHashMap<>();
        Map<Path, String> sources = new LinkedHashMap<>();
        for (JsonNode m : list(report.get("models"))) {
            String s = text(m, "metrics_jsonl");
            if (s.isEmpty()) continue;
            Path file = locate(s, dir);
            if (file == null) continue;
            byFile.computeIfAbsent(file, k -> new ArrayList<>()).add(text(m, "name"));
            sources.putIfAbsent(file, s);
        }
        List<LossCurve> out = new ArrayList<>();
        for (Map.Entry<Path, List<String>> e : byFile.entrySet()) {
            LossCurve c = readCurve(e.getKey(), e.getValue(), sources.get(e.getKey()));
            if (c != null) out.add(c);
        }
        return out;
    }

    /** The file as given (absolute or relative to the working directory), else relative to the report directory. */
    private static Path locate(String s, Path dir) {
        try {
            Path p = Path.of(s);
            List<Path> candidates = p.isAbsolute() ? List.of(p) : List.of(p, dir.resolve(p));
            for (Path c : candidates) {
                if (Files.isRegularFile(c) && Files.isReadable(c)) return c.toAbsolutePath().normalize();
            }
        } catch (InvalidPathException | SecurityException e) {
            // not a usable path: no chart
        }
        return null;
    }

    /** The loss (and val_loss) points of a metrics.jsonl; null when unreadable or without any loss. */
    private static LossCurve readCurve(Path file, List<String> models, String source) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        List<double[]> train = new ArrayList<>(), val = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = Json.MAPPER.readTree(line);
            } catch (IOException | RuntimeException e) {
                continue;     // a line cut by a crash
            }
            if (n == null || !n.isObject()) continue;
            Double step = num(n.get("step"));
            if (step == null || !Double.isFinite(step)) continue;
            Double loss = num(n.get("loss")), vloss = num(n.get("val_loss"));
            if (loss != null && Double.isFinite(loss)) train.add(new double[] {step, loss});
            if (vloss != null && Double.isFinite(vloss)) val.add(new double[] {step, vloss});
        }
        if (train.isEmpty() && val.isEmpty()) return null;
        return new LossCurve(models, source, train, val);
    }

    private static byte[] lossChart(LossCurve c, String title) {
        headless();
        XYChart chart = new XYChartBuilder().width(900).height(460).title(title).xAxisTitle("step").yAxisTitle("loss (nats/token)").build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE).setMarkerSize(7);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        if (!c.train().isEmpty()) addXY(chart, "train", c.train()).setMarker(SeriesMarkers.NONE);
        if (!c.val().isEmpty()) addXY(chart, "validation", c.val()).setMarker(SeriesMarkers.CIRCLE);
        return png(chart);
    }

    private static org.knowm.xchart.XYSeries addXY(XYChart chart, String name, List<double[]> pts) {
        double[] x = new double[pts.size()], y = new double[pts.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = pts.get(i)[0];
            y[i] = pts.get(i)[1];
        }
        return chart.addSeries(name, x, y);
    }
}
