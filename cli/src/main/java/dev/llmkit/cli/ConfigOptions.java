package dev.llmkit.cli;

import dev.llmkit.core.ConfigException;
import dev.llmkit.core.config.ConfigLoader;
import dev.llmkit.core.config.ModelSection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --config file.yaml} and repeatable {@code --set a.b.c=value}: defaults &lt; file &lt; --set. */
public final class ConfigOptions {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML config file (see configs/).")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Override one config key, e.g. --set data.prepare.val_fraction=0.01 (repeatable).")
    List<String> sets = new ArrayList<>();

    /** Applies a model preset (tiny, small) before the --set overrides. */
    void preset(String name) {
        if (name == null) return;
        List<String> p = ModelSection.PRESETS.get(name);
        if (p == null) throw new ConfigException("unknown preset '" + name + "'", "use one of " + ModelSection.PRESETS.keySet());
        sets.addAll(0, p);
    }

    /** Resolves the config; {@code flags} are overrides from the command's own options, applied last. */
    ConfigLoader.Resolved resolve(List<String> flags) {
        List<String> all = new ArrayList<>(sets);
        all.addAll(flags);
        return ConfigLoader.load(config, all);
    }
}
