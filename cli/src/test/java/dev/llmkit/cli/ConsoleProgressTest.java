package dev.llmkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConsoleProgressTest {
    @Test
    void slowRatesKeepTheirDecimals() {
        ConsoleProgress p = ConsoleProgress.lines(new PrintStream(new ByteArrayOutputStream()), 10);
        p.start("pretrain", 100, "steps");
        assertEquals("0.42 steps", p.rate(0.4213));     // a step of 2.4 s (a small model on an old CPU) printed "0 steps/s"
        assertEquals("3.00 steps", p.rate(3));
        assertEquals("12.5 steps", p.rate(12.49));
        assertEquals("1235 steps", p.rate(1234.6));
        assertEquals("10.0 steps", p.rate(9.996));
        assertEquals("100 steps", p.rate(99.96));
        p.start("read", 1 << 30, "B");
        assertEquals("2.5 MB", p.rate(2.5 * 1048576));
    }

    @Test
    void theLastLineNamesTheWorkDoneAndItsRate() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ConsoleProgress p = ConsoleProgress.lines(new PrintStream(out, true, StandardCharsets.UTF_8), 10);
        p.start("pretrain", 10, "steps");
        p.update(3);
        p.close();
        String line = out.toString(StandardCharsets.UTF_8).strip();
        assertTrue(line.matches("pretrain: done 3 steps / 10 steps, \\d+(\\.\\d+)? steps/s in \\d+s"), line);
    }
}
