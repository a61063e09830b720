package dev.llmkit.spark;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * A Parquet file read as the JSON Lines of its rows, one row per line, so that its records go through
 * the same rules as every other input (text field, validity, normalisation, dedup key). Each row
 * becomes an object of its columns (groups as objects, repeated fields as arrays, strings as their
 * UTF-8 bytes); when the file has no {@code meta} column, the row's other columns (all but the text
 * field) are also its {@code meta}, as FineWeb's id, url and dump are. Rows stream a row group at a time.
 * A file that cannot be decoded (a bad footer, a damaged page) fails the read with an unchecked error,
 * which the reader reports as a bad file (skipped whole with --skip-bad-files), not as a disk error.
 */
final class ParquetLines extends InputStream {
    private static final JsonFactory JSON = new JsonFactory();

    private final Path path;
    private final Configuration conf;
    private ParquetFileReader reader;          // opened on the first read
    private MessageType schema;
    private final String textField;
    private boolean addMeta;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(1 << 16);
    private RecordReader<Group> rows;
    private long left;                 // rows left in the current row group
    private byte[] buf = new byte[0];
    private int pos, len;

    ParquetLines(Path path, Configuration conf, String textField) {
        this.path = path;
        this.conf = conf;
        this.textField = textField;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int n) throws IOException {
        if (n == 0) return 0;
        while (pos == len) {
            if (!nextRow()) return -1;
        }
        int k = Math.min(n, len - pos);
        System.arraycopy(buf, pos, b, off, k);
        pos += k;
        return k;
    }

    private boolean nextRow() throws IOException {
        Group g;
        try {
            if (reader == null) {
                reader = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf));
                schema = reader.getFooter().getFileMetaData().getSchema();
                addMeta = !schema.containsField("meta");
            }
            while (left == 0) {
                PageReadStore pages = reader.readNextRowGroup();
                if (pages == null) return false;
                rows = new ColumnIOFactory().getColumnIO(schema).getRecordReader(pages, new GroupRecordConverter(schema));
                left = pages.getRowCount();
            }
            g = rows.read();
        } catch (IOException | RuntimeException e) {
            throw new java.io.UncheckedIOException(new IOException("not a readable Parquet file: " + e.getMessage(), e));
        }
        left--;
        line.reset();
        try (JsonGenerator gen = JSON.createGenerator(line)) {
            gen.writeStartObject();
            fields(gen, g, null);
            if (addMeta) {
                gen.writeFieldName("meta");
                gen.writeStartObject();
                fields(gen, g, textField);
                gen.writeEndObject();
            }
            gen.writeEndObject();
        }
        line.write('\n');
        buf = line.toByteArray();
        pos = 0;
        len = buf.length;
        return true;
    }

    /** The fields of {@code g} (but {@code skip}) as JSON fields. */
    private static void fields(JsonGenerator gen, Group g, String skip) throws IOException {
        GroupType t = g.getType();
        for (int i = 0; i < t.getFieldCount(); i++) {
            Type f = t.getType(i);
            if (f.getName().equals(skip)) continue;
            gen.writeFieldName(f.getName());
            int n = g.getFieldRepetitionCount(i);
            if (f.isRepetition(Type.Repetition.REPEATED)) {
                gen.writeStartArray();
                for (int k = 0; k < n; k++) value(gen, g, i, k, f);
                gen.writeEndArray();
            } else if (n == 0) {
                gen.writeNull();
            } else {
                value(gen, g, i, 0, f);
            }
        }
    }

    private static void value(JsonGenerator gen, Group g, int i, int k, Type f) throws IOException {
        if (!f.isPrimitive()) {
            gen.writeStartObject();
            fields(gen, g.getGroup(i, k), null);
            gen.writeEndObject();
            return;
        }
        PrimitiveType p = f.asPrimitiveType();
        switch (p.getPrimitiveTypeName()) {
            case BOOLEAN -> gen.writeBoolean(g.getBoolean(i, k));
            case INT32 -> gen.writeNumber(g.getInteger(i, k));
            case INT64 -> gen.writeNumber(g.getLong(i, k));
            case FLOAT -> gen.writeNumber(g.getFloat(i, k));
            case DOUBLE -> gen.writeNumber(g.getDouble(i, k));
            case BINARY, FIXED_LEN_BYTE_ARRAY, INT96 -> {
                Binary v = g.getBinary(i, k);
                LogicalTypeAnnotation a = p.getLogicalTypeAnnotation();
                boolean text = a instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation
                        || a instanceof LogicalTypeAnnotation.JsonLogicalTypeAnnotation
                        || a instanceof LogicalTypeAnnotation.EnumLogicalTypeAnnotation
                        || (a == null && p.getPrimitiveTypeName() == PrimitiveType.PrimitiveTypeName.BINARY);
                byte[] bytes = v.getBytes();
                if (text) gen.writeUTF8String(bytes, 0, bytes.length);    // as they are: the record rules check UTF-8
                else gen.writeString(java.util.HexFormat.of().formatHex(bytes));
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (reader != null) reader.close();
    }
}
