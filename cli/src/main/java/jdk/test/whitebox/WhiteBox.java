package jdk.test.whitebox;

import java.lang.reflect.Executable;

/**
 * The few methods of HotSpot's WhiteBox API that the inference engine uses to have its kernels compiled
 * ahead (dev.llmkit.eval.engine.CompileAhead, which finds this class by name). HotSpot binds these natives
 * only when it runs with {@code -XX:+WhiteBoxAPI} and this class comes from the boot class path: ./llmkit
 * passes both for {@code generate}, {@code chat} and {@code eval}, with the jar that the build makes of this
 * class alone ({@code cli/target/llmkit-whitebox.jar}). Anywhere else calling them throws
 * {@link UnsatisfiedLinkError}, and the engine goes without.
 *
 * <p>HotSpot registers its whole table of WhiteBox natives against this class and notes each one missing
 * here on its console, which ./llmkit keeps off ({@code -XX:-DisplayVMOutput}).
 */
public final class WhiteBox {
    private static native void registerNatives();

    static {
        registerNatives();
    }

    public static final WhiteBox WB = new WhiteBox();

    private WhiteBox() {}

    /** Queues {@code method} for compilation at {@code level} (4: C2), for its normal entry when {@code entryBci} is -1. */
    public native boolean enqueueMethodForCompilation0(Executable method, int level, int entryBci);

    /** The level of {@code method}'s compiled code (for its normal entry unless {@code osr}): 0 none, 1-3 C1, 4 C2. */
    public native int getMethodCompilationLevel0(Executable method, boolean osr);

    /** Marks {@code method} to be inlined wherever a compiler meets a call of it. */
    public native boolean testSetForceInlineMethod0(Executable method, boolean value);
}
