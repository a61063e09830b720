package dev.llmkit.core.config;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * {@code tokenizer}: byte-level BPE training.
 *
 * @param vocabSize      total tokens: 256 byte tokens + merges + special tokens
 * @param pattern        pre-tokenization split pattern: gpt2 or cl100k
 * @param specialTokens  added tokens, given the last ids; the first must be {@code <|endoftext|>}
 * @param minFrequency   stop merging when the most frequent pair occurs fewer times than this
 * @param maxTokenLength longest token in bytes a merge may create; 0 = no limit
 * @param maxBytes       train on at most this many bytes of text (a sample from the start); 0 = all
 * @param threads        word-counting threads; 0 = all cores
 */
public record TokenizerConfig(int vocabSize, String pattern, List<String> specialTokens, long minFrequency,
                              int maxTokenLength, long maxBytes, int threads) {
    public TokenizerConfig {
        Objects.requireNonNull(specialTokens, "special_tokens");
        Checks.require(pattern != null && (pattern.equals("gpt2") || pattern.equals("cl100k")), "pattern", pattern, "must be gpt2 or cl100k");
        Checks.require(!specialTokens.isEmpty() && specialTokens.get(0).equals("<|endoftext|>"), "special_tokens", specialTokens,
                "must start with <|endoftext|>");
        Checks.require(new HashSet<>(specialTokens).size() == specialTokens.size() && specialTokens.stream().noneMatch(String::isEmpty),
                "special_tokens", specialTokens, "must be distinct and non-empty");
        Checks.require(vocabSize >= 256 + specialTokens.size() && vocabSize <= 1 << 20, "vocab_size", vocabSize,
                "must be in [256 + number of special tokens, 1048576]");
        Checks.require(minFrequency >= 1, "min_frequency", minFrequency, "must be >= 1");
        Checks.require(maxTokenLength >= 0, "max_token_length", maxTokenLength, "must be >= 0 (0 = no limit)");
        Checks.require(maxBytes >= 0, "max_bytes", maxBytes, "must be >= 0 (0 = all)");
        Checks.require(threads >= 0 && threads <= 1024, "threads", threads, "must be in [0, 1024] (0 = all cores)");
        specialTokens = List.copyOf(specialTokens);
    }

    public static TokenizerConfig defaults() {
        return new TokenizerConfig(8192, "gpt2", List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"), 2, 32, 0, 0);
    }
}
