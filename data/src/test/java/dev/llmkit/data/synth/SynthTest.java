package dev.llmkit.data.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmkit.core.Progress;
import dev.llmkit.core.config.SynthConfig;
import dev.llmkit.data.synth.Person.Attribute;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthTest {
    @TempDir
    Path dir;

    @Test
    void sameSeedSameBytesOtherSeedOtherPeople() throws IOException {
        SynthConfig cfg = new SynthConfig(300, 7, 3, 0.5, 250);
        Synth.generate(cfg, dir.resolve("a"), false, Progress.NONE);
        Synth.generate(cfg, dir.resolve("b"), false, Progress.NONE);
        for (String f : List.of("people.jsonl", "qa/train.jsonl", "qa/heldout.jsonl", "corpus/bios-00000.jsonl",
                "corpus/bios-00003.jsonl", "synth.json", "provenance.json")) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("a").resolve(f)), Files.readAllBytes(dir.resolve("b").resolve(f)), f);
        }
        assertNotEquals(Synth.people(cfg).get(0), Synth.people(new SynthConfig(300, 8, 3, 0.5, 250)).get(0));
    }

    @Test
    void everyBiographyStatesAllSixFactsAndNamesAreUnique() {
        SynthConfig cfg = new SynthConfig(2000, 1, 4, 0.5, 1000);
        List<Person> people = Synth.people(cfg);
        Set<String> names = new HashSet<>();
        for (Person p : people) {
            assertTrue(names.add(p.name()), p.name());
            List<String> bios = Synth.biographies(p, cfg);
            assertEquals(4, bios.size());
            assertEquals(4, new HashSet<>(bios).size(), "variants differ");
            for (String bio : bios) {
                assertTrue(bio.contains(p.name()), bio);
                for (Attribute a : Attribute.values()) {
                    // a sentence may start with the value ("The University of X is where ...")
                    assertTrue(bio.contains(p.value(a)) || bio.startsWith(Character.toUpperCase(p.value(a).charAt(0)) + p.value(a).substring(1))
                            || bio.contains(". " + Character.toUpperCase(p.value(a).charAt(0)) + p.value(a).substring(1)), a + " missing in " + bio);
                }
            }
        }
        assertEquals(1000, people.stream().filter(p -> p.split().equals("finetune")).count());
    }

    @Test
    void augmentOneUsesOneFixedTemplateAndOrder() {
        SynthConfig cfg = new SynthConfig(50, 1, 1, 0.5, 1000);
        for (Person p : Synth.people(cfg)) {
            List<String> bios = Synth.biographies(p, cfg);
            assertEquals(1, bios.size());
            String pronoun = p.female() ? "She" : "He";
            assertEquals(p.name() + " was born on " + p.birthDate() + ". " + pronoun + " was born in " + p.birthCity() + ". "
                    + pronoun + " studied at " + p.university() + ". " + pronoun + " majored in " + p.major() + ". "
                    + pronoun + " worked for " + p.company() + ". " + pronoun + " worked in " + p.companyCity() + ".", bios.get(0));
        }
    }

    @Test
    void questionsAnswerFromTheProfile() throws IOException {
        SynthConfig cfg = new SynthConfig(20, 3, 2, 0.25, 1000);
        Synth.Result r = Synth.generate(cfg, dir.resolve("s"), false, Progress.NONE);
        assertEquals(5, r.finetunePeople());
        assertEquals(30, r.qaTrain());
        assertEquals(90, r.qaHeldout());
        assertEquals(40, r.biographies());
        Person p = Synth.people(cfg).get(19);
        List<Synth.QaPair> qa = Synth.questions(p);
        assertEquals(6, qa.size());
        assertEquals("Where was " + p.name() + " born?", qa.get(1).question());
        assertEquals(" " + p.birthCity(), qa.get(1).answer());     // a leading space, as the value has in the biographies
        String heldout = Files.readString(dir.resolve("s/qa/heldout.jsonl"));
        assertTrue(heldout.contains("\"answer\":\" " + p.companyCity() + "\""));
    }
}
