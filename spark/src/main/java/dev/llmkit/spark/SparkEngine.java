package dev.llmkit.spark;

import dev.llmkit.core.LlmkitException;
import dev.llmkit.core.config.PrepareConfig;
import dev.llmkit.core.config.TokenizeConfig;
import dev.llmkit.data.engine.DataEngine;
import dev.llmkit.data.prepare.CorpusReport;
import dev.llmkit.data.tokenize.Pretokenizer;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark back end of the data stage. Uses the session that is already running (spark-submit, a
 * test), or starts one on {@code master} ({@code local[*]} when none is given) and stops it afterwards.
 * An error a task threw (a bad file under --strict, a disk error) reaches the caller as itself, not
 * wrapped in Spark's job failure.
 */
public final class SparkEngine implements DataEngine {
    @Override
    public String name() {
        return "spark";
    }

    @Override
    public CorpusReport prepare(PrepareConfig cfg, List<String> inputs, String out, boolean overwrite, Run run) {
        return withSession(run, "llmkit data prepare", spark -> SparkPrepare.run(spark, cfg, inputs, out, overwrite, run.log()));
    }

    @Override
    public Pretokenizer.Result tokenize(String corpus, String tokenizer, TokenizeConfig cfg, String out, boolean overwrite, Run run) {
        return withSession(run, "llmkit data tokenize", spark -> SparkTokenize.run(spark, corpus, tokenizer, cfg, out, overwrite, run.log()));
    }

    private static <T> T withSession(Run run, String app, java.util.function.Function<SparkSession, T> job) {
        SparkSession active = SparkSession.getActiveSession().getOrElse(() -> SparkSession.getDefaultSession().getOrElse(() -> null));
        SparkSession spark = active != null ? active : Sessions.start(run.master(), app);
        try (ProgressLines p = ProgressLines.attach(spark, run.log())) {
            return job.apply(spark);
        } catch (Exception e) {         // SparkException is a checked exception that Scala code throws undeclared
            throw unwrap(e);
        } finally {
            if (active == null) spark.stop();
        }
    }

    /**
     * The llmkit error that failed a task, when one did; else {@code e} itself, or for a failure of the
     * job that is not llmkit's (an executor lost, out of memory), an I/O error that says so.
     */
    static RuntimeException unwrap(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof LlmkitException le) return le;
        }
        if (e instanceof org.apache.spark.SparkException) {
            return new dev.llmkit.core.StorageException("the Spark job failed: " + e.getMessage().lines().findFirst().orElse(""),
                    "see the Spark driver and executor logs", e);
        }
        return e instanceof RuntimeException re ? re : new IllegalStateException(e);
    }

}
