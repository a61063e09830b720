package dev.llmkit.data.prepare;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.Progress;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.config.PrepareConfig;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The throughput benchmark of {@code data prepare}: MB/s of uncompressed input, measured on given
 * inputs and on a large generated {@code .jsonl.zst} file, beside the speed of merely decompressing
 * that file on one thread (the floor any reader pays), measured in the same run.
 */
public final class PrepareBenchmark {
    private PrepareBenchmark() {}

    /** One measurement: what was read and how long it took. */
    public record Figure(String name, long bytes, double seconds) {
        public double mbPerSecond() {
            return bytes / 1048576.0 / seconds;
        }
    }

    /** Runs prepare on {@code inputs} {@code repeats} times into {@code work} and returns the fastest. */
    public static Figure prepare(String name, PrepareConfig cfg, List<InputFiles.Input> inputs, Path work, int repeats) {
        Figure best = null;
        for (int i = 0; i < repeats; i++) {
            Path out = work.resolve("out-" + name);
            long t0 = System.nanoTime();
            Corpus.Manifest m = Corpus.prepare(cfg, inputs, out, true, Progress.NONE);
            Figure f = new Figure(name, m.report().totals().bytesIn(), (System.nanoTime() - t0) / 1e9);
            if (best == null || f.seconds() < best.seconds()) best = f;
            try {
                AtomicFiles.deleteRecursively(out);
            } catch (IOException e) {
                throw new StorageException("cannot clean " + out, null, e);
            }
        }
        return best;
    }

    /** Decompresses a file of any input format and counts its lines on one thread. */
    public static Figure decompressOnly(Path zst) {
        long t0 = System.nanoTime();
        long bytes = 0;
        long lines = 0;
        byte[] buf = new byte[1 << 20];
        InputFormat fmt = InputFormat.of(zst);
        try (InputStream in = fmt.open(new BufferedInputStream(Files.newInputStream(zst), 1 << 17))) {
            int n;
            while ((n = in.read(buf)) > 0) {
                bytes += n;
                for (int p = 0; (p = RecordParser.indexOfNewline(buf, p, n)) >= 0; p++) lines++;
            }
        } catch (IOException e) {
            throw new StorageException("cannot read " + zst + ": " + e.getMessage(), null, e);
        }
        return new Figure(fmt.compression.name().toLowerCase(java.util.Locale.ROOT) + " decompress + line split, 1 thread (" + lines + " lines)",
                bytes, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The first whole lines, up to {@code maxBytes}, of a .jsonl.zst written again as {@code suffix}
     * (.jsonl.bz2, .jsonl.xz; or .txt, the texts as paragraphs with a blank line between documents), to
     * measure the other input formats on the same text. Reuses the file when it exists.
     */
    public static Path recompress(Path zst, Path work, long maxBytes, String suffix) {
        Path file = work.resolve("bench-" + (maxBytes >> 20) + "MB" + suffix);
        if (Files.isRegularFile(file)) return file;
        Path tmp = work.resolve(file.getFileName() + ".tmp");
        if (suffix.startsWith(".tar")) return tarOfLines(zst, file, tmp, maxBytes);
        boolean text = suffix.equals(".txt");
        try (java.io.BufferedReader r = lines(zst);
             OutputStream raw = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20);
             OutputStream out = suffix.endsWith(".bz2") ? new org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream(raw)
                     : suffix.endsWith(".xz") ? new org.apache.commons.compress.compressors.xz.XZCompressorOutputStream(raw, 6) : raw) {
            long written = 0;
            for (String line; (line = r.readLine()) != null && written < maxBytes; ) {
                byte[] b = (text ? dev.llmkit.core.Json.MAPPER.readTree(line).path("text").asText() + "\n\n" : line + "\n").getBytes(StandardCharsets.UTF_8);
                out.write(b);
                written += b.length;
            }
        } catch (IOException e) {
            throw new StorageException("cannot write " + tmp + ": " + e.getMessage(), "check free disk space", e);
        }
        return moveIntoPlace(tmp, file);
    }

    /**
     * Writes a .jsonl.zst of at least {@code minBytes} uncompressed bytes by cycling through the
     * documents of a prepared corpus, each copy made unique by a "[copy N]" prefix (so deduplication
     * keeps them all). Reuses the file when it exists.
     */
    public static Path bigInput(Path corpusDir, Path work, long minBytes, Progress progress) {
        Path file = work.resolve("bench-" + (minBytes >> 20) + "MB.jsonl.zst");
        if (Files.isRegularFile(file)) return file;
        List<Path> shards = new ArrayList<>();
        try (var s = Files.list(corpusDir)) {
            s.filter(p -> p.getFileName().toString().endsWith(".jsonl.zst")).sorted().forEach(shards::add);
        } catch (IOException e) {
            throw new StorageException("cannot list " + corpusDir, null, e);
        }
        if (shards.isEmpty()) throw new StorageException("no shards in " + corpusDir + " to build the benchmark input from", null, null);
        Path tmp = work.resolve(file.getFileName() + ".tmp");
        byte[] head = "{\"text\":\"".getBytes(StandardCharsets.US_ASCII);
        long written = 0;
        progress.start("bench input", minBytes, "B");
        try (OutputStream out = new BufferedOutputStream(new ZstdOutputStreamNoFinalizer(Files.newOutputStream(tmp), 3), 1 << 20)) {
            for (int copy = 0; written < minBytes; copy++) {
                byte[] tag = ("{\"text\":\"[copy " + copy + "] ").getBytes(StandardCharsets.US_ASCII);
                for (Path shard : shards) {
                    try (InputStream in = new ZstdInputStreamNoFinalizer(new BufferedInputStream(Files.newInputStream(shard), 1 << 17))) {
                        byte[] all = in.readAllBytes();
                        int start = 0;
                        while (start < all.length && written < minBytes) {
                            int nl = RecordParser.indexOfNewline(all, start, all.length);
                            int end = nl < 0 ? all.length : nl + 1;
                            out.write(tag);
                            out.write(all, start + head.length, end - start - head.length);
                            written += tag.length + end - start - head.length;
                            start = end;
                        }
                    }
                    progress.update(written);
                }
            }
        } catch (IOException e) {
            throw new StorageException("cannot write " + tmp + ": " + e.getMessage(), "check free disk space", e);
        } finally {
            progress.close();
        }
        return moveIntoPlace(tmp, file);
    }

    /** A .tar.zst of .jsonl members of at most 8 MB each, holding the first lines of a .jsonl.zst up to maxBytes. */
    private static Path tarOfLines(Path zst, Path file, Path tmp, long maxBytes) {
        try (java.io.BufferedReader r = lines(zst);
             OutputStream raw = new BufferedOutputStream(new ZstdOutputStreamNoFinalizer(Files.newOutputStream(tmp), 3), 1 << 20);
             org.apache.commons.compress.archivers.tar.TarArchiveOutputStream tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(raw)) {
            java.io.ByteArrayOutputStream member = new java.io.ByteArrayOutputStream();
            long written = 0;
            int members = 0;
            for (String line; ; ) {
                line = written < maxBytes ? r.readLine() : null;
                if (line != null) {
                    byte[] b = (line + "\n").getBytes(StandardCharsets.UTF_8);
                    member.write(b);
                    written += b.length;
                }
                if (member.size() > 0 && (line == null || member.size() >= 8 << 20)) {
                    org.apache.commons.compress.archivers.tar.TarArchiveEntry e =
                            new org.apache.commons.compress.archivers.tar.TarArchiveEntry(String.format("part-%03d.jsonl", members++));
                    e.setSize(member.size());
                    tar.putArchiveEntry(e);
                    member.writeTo(tar);
                    tar.closeArchiveEntry();
                    member.reset();
                }
                if (line == null) break;
            }
        } catch (IOException e) {
            throw new StorageException("cannot write " + tmp + ": " + e.getMessage(), "check free disk space", e);
        }
        return moveIntoPlace(tmp, file);
    }

    /** The lines of a .jsonl.zst. */
    /**
     * The lines of {@code zst} cut into {@code parts} .jsonl.zst files of about equal size, in a directory
     * (kept for reuse): many input files, as a corpus of shards has, so that an engine that reads files in
     * parallel (Spark) can.
     */
    public static Path split(Path zst, Path work, int parts) {
        Path dir = work.resolve(zst.getFileName().toString().replace(".jsonl.zst", "") + "-" + parts + "parts");
        if (Files.isDirectory(dir)) return dir;
        Path tmp = work.resolve(dir.getFileName() + ".tmp");
        try {
            dev.llmkit.core.AtomicFiles.deleteRecursively(tmp);
            Files.createDirectories(tmp);
            long total = 0;
            try (java.io.BufferedReader r = lines(zst)) {
                for (String line; (line = r.readLine()) != null; ) total += line.length() + 1;
            }
            long per = total / parts + 1;
            try (java.io.BufferedReader r = lines(zst)) {
                String line = r.readLine();
                for (int k = 0; k < parts && line != null; k++) {
                    try (OutputStream out = new BufferedOutputStream(new ZstdOutputStreamNoFinalizer(Files.newOutputStream(tmp.resolve(String.format("part-%03d.jsonl.zst", k))), 3), 1 << 20)) {
                        long written = 0;
                        for (; line != null && (written < per || k == parts - 1); line = r.readLine()) {
                            byte[] b = (line + "\n").getBytes(StandardCharsets.UTF_8);
                            out.write(b);
                            written += line.length() + 1;
                        }
                    }
                }
            }
            Files.move(tmp, dir);
        } catch (IOException e) {
            throw new StorageException("cannot write " + tmp + ": " + e.getMessage(), "check free disk space", e);
        }
        return dir;
    }

    private static java.io.BufferedReader lines(Path zst) throws IOException {
        InputStream in = InputFormat.JSONL_ZST.open(new BufferedInputStream(Files.newInputStream(zst), 1 << 17));
        return new java.io.BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8), 1 << 20);
    }

    /** A finished benchmark input renamed into place (a killed run leaves only the .tmp, never a short input). */
    private static Path moveIntoPlace(Path tmp, Path file) {
        try {
            Files.move(tmp, file);
        } catch (IOException e) {
            throw new StorageException("cannot rename " + tmp + ": " + e.getMessage(), "check the work directory", e);
        }
        return file;
    }
}
