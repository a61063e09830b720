package dev.llmkit.data.engine;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.config.PrepareConfig;
import dev.llmkit.core.config.TokenizeConfig;
import dev.llmkit.data.prepare.CorpusReport;
import dev.llmkit.data.tokenize.Pretokenizer;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * A distributed back end of the data stage ({@code data prepare --engine NAME}, {@code data tokenize
 * --engine NAME}), found on the class path through {@link ServiceLoader}. The single-machine path
 * ({@link dev.llmkit.data.prepare.Corpus}, {@link Pretokenizer}) stays the default and the reference:
 * an engine gives the same documents in the same order per split, the same report counts and the same
 * tokens. Inputs and outputs are paths or URIs of any file system the engine can reach.
 */
public interface DataEngine {
    /** Where to run and how to report: the cluster master URL (null: the engine's default) and a log of stage lines. */
    record Run(String master, Consumer<String> log) {}

    /** The name {@code --engine} takes. */
    String name();

    /** {@code data prepare}: inputs (files, directories, globs) to a corpus directory at {@code out}. */
    CorpusReport prepare(PrepareConfig cfg, List<String> inputs, String out, boolean overwrite, Run run);

    /** {@code data tokenize}: a corpus directory and a tokenizer.json to a token directory at {@code out}. */
    Pretokenizer.Result tokenize(String corpus, String tokenizer, TokenizeConfig cfg, String out, boolean overwrite, Run run);

    /** The engine called {@code name}. */
    static DataEngine find(String name) {
        for (DataEngine e : ServiceLoader.load(DataEngine.class)) {
            if (e.name().equals(name)) return e;
        }
        throw new ConfigException("the " + name + " data engine is not on the class path",
                "run it through ./llmkit, which builds the optional module (mvn -Pspark) and adds it, or use spark-submit with llmkit-spark-submit.jar (see README)");
    }
}
