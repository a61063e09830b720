package dev.llmkit.data.prepare;

import java.util.Locale;

/** Why a record was skipped; the lower-case name is the key in report.json. */
public enum Reason {
    INVALID_JSON("the line is not one JSON object"),
    MISSING_TEXT("the text field is absent or null"),
    TEXT_NOT_STRING("the text field is not a string"),
    INVALID_UTF8("the bytes are not valid UTF-8 (or the text has an unpaired surrogate escape)"),
    EMPTY_TEXT("the text is empty or whitespace only after normalisation"),
    TOO_LARGE("the record or its text is longer than max_doc_bytes");

    public final String meaning;

    Reason(String meaning) {
        this.meaning = meaning;
    }

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The reason whose {@link #key()} is {@code key}. */
    public static Reason of(String key) {
        return valueOf(key.toUpperCase(Locale.ROOT));
    }
}
