package dev.llmkit.data.prepare;

import java.util.ArrayList;
import java.util.List;

/**
 * The sources of one prepare run in reading order: every input file, and every member of a tar
 * archive in place of the archive ({@code archive.tar.gz!path/in/archive.jsonl}). The reader thread
 * registers a source before it queues that source's batches, so the threads that take the batches
 * always find it. Also holds each input file's sha256 on disk (an archive's is its own, not its members').
 */
final class Sources {
    /**
     * One source: its name in reports, its format (null for an archive member of a type llmkit does not
     * read) and that format's name in reports, its size, the input file it is or comes from, and whether its bytes can be truncated
     * (a compressed file, or any member of a compressed archive).
     */
    record Source(String name, InputFormat format, String formatName, long size, int file, boolean compressed) implements java.io.Serializable {}

    private final List<Source> list = new ArrayList<>();
    private final String[] fileSha;

    Sources(int files) {
        fileSha = new String[files];
    }

    synchronized int add(Source s) {
        list.add(s);
        return list.size() - 1;
    }

    synchronized Source get(int i) {
        return list.get(i);
    }

    synchronized int size() {
        return list.size();
    }

    synchronized void fileSha(int file, String sha) {
        fileSha[file] = sha;
    }

    synchronized String fileSha(int file) {
        return fileSha[file];
    }
}
