package dev.llmkit.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.Json;
import dev.llmkit.core.StorageException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * metrics.jsonl (one JSON object per step, flushed as written) and loss.png (train and validation
 * loss against step, and validation exact match when fine-tuning measures it, rendered with XChart
 * and replaced atomically). On resume the file is cut back
 * to the checkpoint's step, dropping any line a crash left half-written.
 */
final class Metrics implements AutoCloseable {
    private final Path file, plot;
    private final List<double[]> train = new ArrayList<>(), val = new ArrayList<>(), exact = new ArrayList<>();
    private BufferedWriter out;

    Metrics(Path dir, long resumeStep) {
        this.file = dir.resolve("metrics.jsonl");
        this.plot = dir.resolve("loss.png");
        try {
            List<String> keep = new ArrayList<>();
            if (resumeStep > 0 && Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    JsonNode n;
                    try {
                        n = Json.MAPPER.readTree(line);
                    } catch (IOException e) {
                        continue;     // a line cut by a crash
                    }
                    if (n == null || !n.has("step") || n.get("step").asLong() > resumeStep) continue;
                    keep.add(line);
                    remember(n);
                }
            }
            AtomicFiles.write(file, (String.join("\n", keep) + (keep.isEmpty() ? "" : "\n")).getBytes(StandardCharsets.UTF_8));
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new StorageException(file + ": cannot write: " + e.getMessage(), null, e);
        }
    }

    private void remember(JsonNode n) {
        long step = n.get("step").asLong();
        if (n.hasNonNull("loss")) train.add(new double[] {step, n.get("loss").asDouble()});
        if (n.hasNonNull("val_loss")) val.add(new double[] {step, n.get("val_loss").asDouble()});
        if (n.hasNonNull("val_exact_match")) exact.add(new double[] {step, n.get("val_exact_match").asDouble()});
    }

    void write(ObjectNode line) {
        remember(line);
        try {
            out.write(Json.COMPACT.writeValueAsString(line));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new StorageException(file + ": cannot write: " + e.getMessage(), null, e);
        }
    }

    /** Re-renders loss.png. */
    void plot(String title) {
        if (train.isEmpty()) return;
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(520).title(title).xAxisTitle("step").yAxisTitle("loss (nats/token)").build();
        chart.getStyler().setMarkerSize(4);
        add(chart, "train", train).setMarker(SeriesMarkers.NONE);
        if (!val.isEmpty()) add(chart, "validation", val).setMarker(SeriesMarkers.CIRCLE);
        if (!exact.isEmpty()) {     // fine-tuning: exact match (0..1) on a second axis
            add(chart, "validation exact match (right axis)", exact).setMarker(SeriesMarkers.DIAMOND).setYAxisGroup(1);
            chart.setYAxisGroupTitle(1, "exact match");
            chart.getStyler().setYAxisMin(1, 0.0).setYAxisMax(1, 1.0);
            chart.getStyler().setYAxisGroupPosition(1, org.knowm.xchart.style.Styler.YAxisPosition.Right);
        }
        Path tmp = plot.resolveSibling(".loss.tmp.png");
        try {
            BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
            Files.move(tmp, plot, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new StorageException(plot + ": cannot write: " + e.getMessage(), null, e);
        }
    }

    private static org.knowm.xchart.XYSeries add(XYChart chart, String name, List<double[]> pts) {
        double[] x = new double[pts.size()], y = new double[pts.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = pts.get(i)[0];
            y[i] = pts.get(i)[1];
        }
        return chart.addSeries(name, x, y);
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new StorageException(file + ": cannot close: " + e.getMessage(), null, e);
        }
    }
}
