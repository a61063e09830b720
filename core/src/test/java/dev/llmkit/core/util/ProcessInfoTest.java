package dev.llmkit.core.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The start-up helpers of the inference commands: the launch time, the JVM's options, formatting without locale data. */
class ProcessInfoTest {
    @Test
    void launchTimeFromTheLaunchersPropertyElseTheJvmsStart() {
        String before = System.getProperty("llmkit.launched");
        try {
            System.setProperty("llmkit.launched", "1796227383.5605");
            assertEquals(1796227383561L, ProcessInfo.launchedMillis());
            assertEquals("launch", ProcessInfo.launchedFrom());
            System.setProperty("llmkit.launched", "1796227383,5605");     // bash under a locale with a decimal comma
            assertEquals(1796227383561L, ProcessInfo.launchedMillis());
            for (String bad : new String[] {"", "soon", "-1", "NaN"}) {
                System.setProperty("llmkit.launched", bad);
                assertEquals("the JVM started", ProcessInfo.launchedFrom(), bad);
                long jvm = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
                assertEquals(jvm, ProcessInfo.launchedMillis(), bad);
            }
        } finally {
            if (before == null) System.clearProperty("llmkit.launched");
            else System.setProperty("llmkit.launched", before);
        }
    }

    @Test
    void theCommandLineHoldsTheJvmsOptions() {
        // surefire starts this JVM with the project's flags, among them the Vector API's module
        assertTrue(ProcessInfo.commandLineAndJavaOptions().stream().anyMatch(a -> a.contains("jdk.incubator.vector")),
                ProcessInfo.commandLineAndJavaOptions().toString());
    }

    @Test
    void formatsAsLocaleRootWhateverTheDefaultLocale() {
        Locale before = Locale.getDefault();
        try {
            Locale.setDefault(Locale.GERMANY);
            assertEquals(String.format(Locale.ROOT, "%.2f %,d %s", 1234.5, 1234567, "x"), Text.format("%.2f %,d %s", 1234.5, 1234567, "x"));
            assertEquals("1234.50 1,234,567", Text.format("%.2f %,d", 1234.5, 1234567));
        } finally {
            Locale.setDefault(before);
        }
    }
}
