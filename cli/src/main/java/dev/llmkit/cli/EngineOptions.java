package dev.llmkit.cli;

import dev.llmkit.core.ConfigException;
import dev.llmkit.data.engine.DataEngine;
import picocli.CommandLine.Option;

/** {@code --engine} and {@code --master} of data prepare and data tokenize. */
final class EngineOptions {
    @Option(names = "--engine", paramLabel = "NAME", defaultValue = "local",
            description = "local (default: this machine, the reference) or spark (Apache Spark; ./llmkit builds and adds the optional module).")
    String engine;

    @Option(names = "--master", paramLabel = "URL",
            description = "With --engine spark: where to run (local[N], spark://host:7077, yarn; default local[*]).")
    String master;

    boolean spark() {
        return switch (engine) {
            case "local" -> {
                if (master != null) throw new ConfigException("--master is for --engine spark", "add --engine spark, or drop --master");
                yield false;
            }
            case "spark" -> true;
            default -> throw new ConfigException("--engine " + engine + " is not an engine", "use local or spark");
        };
    }

    DataEngine find() {
        return DataEngine.find(engine);
    }

    DataEngine.Run run() {
        return new DataEngine.Run(master, line -> System.err.println(line));
    }
}
