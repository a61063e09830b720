package dev.llmkit.core;

/** The llmkit version, read from the jar manifest when packaged. */
public final class Version {
    private Version() {}

    public static String llmkit() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0-SNAPSHOT";
    }
}
