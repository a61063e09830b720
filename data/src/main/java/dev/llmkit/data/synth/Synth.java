package dev.llmkit.data.synth;

import dev.llmkit.core.AtomicFiles;
import dev.llmkit.core.Json;
import dev.llmkit.core.Progress;
import dev.llmkit.core.Provenance;
import dev.llmkit.core.StorageException;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.SynthConfig;
import dev.llmkit.data.synth.Person.Attribute;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code data synth}: the built-in demo corpus, after the bioS data of "Physics of Language Models,
 * Part 3.1" (Allen-Zhu and Li, 2023). Fictional people with six facts each, rendered as biographies
 * (RedPajama-style JSONL) and as Q&amp;A pairs split into fine-tuning people and held-out people.
 * With augment = 1 every biography uses one fixed template and order; with K &gt; 1 each person gets
 * K biographies with randomly chosen templates, shuffled sentence order and name/pronoun mix.
 *
 * <pre>
 * OUT/corpus/bios-00000.jsonl   {"text": biography, "meta": {"source": "llmkit-synth", "person": id, "variant": k}}
 * OUT/qa/train.jsonl            {"question", "answer", "person", "attribute"}: people for fine-tuning
 * OUT/qa/heldout.jsonl          the same for held-out people (evaluate generalisation)
 * OUT/people.jsonl              the ground truth, one person per line, with its split
 * OUT/synth.json, provenance.json
 * </pre>
 */
public final class Synth {
    private Synth() {}

    /** What was written. */
    public record Result(int people, int finetunePeople, int heldoutPeople, long biographies,
                         long qaTrain, long qaHeldout, long corpusBytes) {}

    public static Result generate(SynthConfig cfg, Path out, boolean overwrite, Progress progress) {
        Path staging = AtomicFiles.beginDir(out, overwrite);
        boolean ok = false;
        try {
            Result r = write(cfg, staging, out, progress);
            Json.write(staging.resolve("synth.json"), r);
            Json.write(staging.resolve("provenance.json"), new Provenance("data.synth", Provenance.versions(Map.of()),
                    List.of(), cfg, ConfigLoader.sha256(Json.MAPPER.valueToTree(cfg))));
            AtomicFiles.commitDir(staging, out);
            ok = true;
            return r;
        } finally {
            if (!ok) AtomicFiles.abortDir(staging);
        }
    }

    /** The people of a config, deterministic in the seed. */
    public static List<Person> people(SynthConfig cfg) {
        SplittableRandom rnd = new SplittableRandom(cfg.seed());
        Set<String> names = new HashSet<>();
        List<Person> out = new ArrayList<>(cfg.people());
        int finetune = (int) Math.round(cfg.people() * cfg.finetuneFraction());
        finetune = Math.max(1, Math.min(cfg.people() - 1, finetune));
        for (int id = 0; id < cfg.people(); id++) {
            boolean female = rnd.nextBoolean();
            String name;
            int tries = 0;
            do {
                if (++tries > 1000) throw new IllegalStateException("cannot find a unique name; too many people");
                String first = pick(rnd, female ? WordLists.FEMALE : WordLists.MALE);
                name = first + " " + surname(rnd);
            } while (!names.add(name));
            LocalDate birth = LocalDate.of(1900, 1, 1).plusDays(rnd.nextInt(36525));
            String date = WordLists.MONTHS.get(birth.getMonthValue() - 1) + " " + birth.getDayOfMonth() + ", " + birth.getYear();
            out.add(new Person(id, name, female, date, pick(rnd, WordLists.CITIES), pick(rnd, WordLists.UNIVERSITIES),
                    pick(rnd, WordLists.MAJORS), pick(rnd, WordLists.COMPANIES), pick(rnd, WordLists.CITIES),
                    id < finetune ? "finetune" : "heldout"));
        }
        return out;
    }

    /** The biographies of one person: K variants, or the fixed one when augment = 1. */
    public static List<String> biographies(Person p, SynthConfig cfg) {
        List<String> bios = new ArrayList<>(cfg.augment());
        Attribute[] attrs = Attribute.values();
        if (cfg.augment() == 1) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < attrs.length; i++) {
                if (i > 0) sb.append(' ');
                sb.append(Templates.render(Templates.SENTENCES.get(attrs[i]).get(0), p, i == 0, p.value(attrs[i])));
            }
            bios.add(sb.toString());
            return bios;
        }
        SplittableRandom rnd = new SplittableRandom(cfg.seed() * 0x9E3779B97F4A7C15L + p.id());
        for (int k = 0; k < cfg.augment(); k++) {
            Attribute[] order = attrs.clone();
            for (int i = order.length - 1; i > 0; i--) { // Fisher-Yates
                int j = rnd.nextInt(i + 1);
                Attribute t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < order.length; i++) {
                List<String> ts = Templates.SENTENCES.get(order[i]);
                boolean useName = i == 0 || rnd.nextInt(3) == 0;
                if (i > 0) sb.append(' ');
                sb.append(Templates.render(ts.get(rnd.nextInt(ts.size())), p, useName, p.value(order[i])));
            }
            bios.add(sb.toString());
        }
        return bios;
    }

    /**
     * The Q&amp;A pairs about one person, one per attribute. Each answer starts with a space (" Lagos"):
     * in the biographies every value follows a space, so the tokenizer's tokens for values carry one,
     * and an answer without it would open the assistant turn with tokens pre-training never tied to the
     * value ("L", "agos"). Measured on the demo's 400 people: questions about held-out people answered
     * at 1.5% without the space, 43% with it. Exact match compares answers without surrounding spaces.
     */
    public static List<QaPair> questions(Person p) {
        List<QaPair> qa = new ArrayList<>();
        for (Attribute a : Attribute.values()) {
            qa.add(new QaPair(Templates.QUESTIONS.get(a).replace("{N}", p.name()), " " + p.value(a), p.id(),
                    a.name().toLowerCase(java.util.Locale.ROOT)));
        }
        return qa;
    }

    /** One line of qa/*.jsonl. */
    public record QaPair(String question, String answer, int person, String attribute) {}

    /** One line of corpus/bios-*.jsonl. */
    public record Bio(String text, BioMeta meta) {}

    public record BioMeta(String source, int person, int variant) {}

    private static Result write(SynthConfig cfg, Path dir, Path out, Progress progress) {
        List<Person> people = people(cfg);
        long bios = 0, bytes = 0, qaTrain = 0, qaHeld = 0;
        int finetune = 0;
        try {
            Files.createDirectories(dir.resolve("corpus"));
            Files.createDirectories(dir.resolve("qa"));
            progress.start("synth", people.size(), "people");
            List<List<String>> all = new ArrayList<>(people.size());
            try (BufferedWriter pw = writer(dir.resolve("people.jsonl"));
                 BufferedWriter qt = writer(dir.resolve("qa/train.jsonl"));
                 BufferedWriter qh = writer(dir.resolve("qa/heldout.jsonl"))) {
                for (Person p : people) {
                    pw.write(compact(p));
                    pw.write('\n');
                    boolean ft = p.split().equals("finetune");
                    if (ft) finetune++;
                    for (QaPair q : questions(p)) {
                        (ft ? qt : qh).write(compact(q));
                        (ft ? qt : qh).write('\n');
                        if (ft) qaTrain++;
                        else qaHeld++;
                    }
                    all.add(biographies(p, cfg));
                    progress.update(p.id() + 1);
                }
            }
            // variant-major order: every person's first biography, then every second one, ...
            int shard = 0;
            long inShard = 0;
            BufferedWriter w = null;
            try {
                for (int k = 0; k < cfg.augment(); k++) {
                    for (Person p : people) {
                        if (w == null || inShard == cfg.docsPerShard()) {
                            if (w != null) w.close();
                            w = writer(dir.resolve(String.format("corpus/bios-%05d.jsonl", shard++)));
                            inShard = 0;
                        }
                        String line = compact(new Bio(all.get(p.id()).get(k), new BioMeta("llmkit-synth", p.id(), k)));
                        w.write(line);
                        w.write('\n');
                        bytes += line.getBytes(StandardCharsets.UTF_8).length + 1;
                        bios++;
                        inShard++;
                    }
                }
            } finally {
                if (w != null) w.close();
            }
        } catch (IOException e) {
            throw new StorageException("cannot write the synthetic corpus under " + out + ": " + e.getMessage(),
                    "check free disk space and permissions", e);
        } finally {
            progress.close();
        }
        return new Result(people.size(), finetune, people.size() - finetune, bios, qaTrain, qaHeld, bytes);
    }

    private static String compact(Object o) throws IOException {
        return Json.COMPACT.writeValueAsString(o);
    }

    private static BufferedWriter writer(Path p) throws IOException {
        return Files.newBufferedWriter(p, StandardCharsets.UTF_8);
    }

    private static String pick(SplittableRandom rnd, List<String> list) {
        return list.get(rnd.nextInt(list.size()));
    }

    private static String surname(SplittableRandom rnd) {
        int syllables = 1 + rnd.nextInt(2);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < syllables; i++) {
            sb.append(pick(rnd, WordLists.ONSETS)).append(pick(rnd, WordLists.VOWELS));
            if (i == syllables - 1 || rnd.nextBoolean()) sb.append(pick(rnd, WordLists.CODAS));
        }
        if (sb.length() < 4) sb.append(pick(rnd, List.of("son", "berg", "ley", "ford", "wick", "mann", "ard")));
        return Character.toUpperCase(sb.charAt(0)) + sb.substring(1);
    }
}
