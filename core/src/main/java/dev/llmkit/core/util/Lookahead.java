package dev.llmkit.core.util;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * An iterator whose elements are found one ahead: a subclass returns the next one from {@link #advance()},
 * or null at the end (after which it is not called again).
 */
public abstract class Lookahead<T> implements Iterator<T> {
    private T next;
    private boolean end;

    /** The next element, or null when there is none. */
    protected abstract T advance();

    @Override
    public final boolean hasNext() {
        if (next == null && !end) {
            next = advance();
            end = next == null;
        }
        return next != null;
    }

    @Override
    public final T next() {
        if (!hasNext()) throw new NoSuchElementException();
        T t = next;
        next = null;
        return t;
    }
}
