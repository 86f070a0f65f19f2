package org.dl4jclipping.examples;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Reading the bundled data and the user's files. Every problem is a {@link UserError} naming the path and, for
 * content, the line.
 */
final class Data {

    private Data() {
    }

    /** Lines of a file or bundled resource, with a name for messages. */
    record Source(String name, List<String> lines) {
    }

    static Source resource(String path) {
        try (InputStream in = Data.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("bundled resource missing: " + path);
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new Source("bundled " + path.substring(path.lastIndexOf('/') + 1), text.lines().toList());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read bundled resource " + path, e);
        }
    }

    /** The whole text of a bundled resource. */
    static String resourceText(String path) {
        return String.join("\n", resource(path).lines()) + "\n";
    }

    /** The whole text of a user's file (UTF-8). */
    static String text(Path file) {
        byte[] bytes = bytes(file);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            int line = 1;
            int good = validUtf8Prefix(bytes);
            for (int i = 0; i < good; i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            throw new UserError(file + ":" + line + ": not UTF-8 text (byte " + good + ")");
        }
    }

    static Source lines(Path file) {
        return new Source(file.toString(), text(file).lines().toList());
    }

    private static byte[] bytes(Path file) {
        try {
            if (Files.isDirectory(file)) {
                throw new UserError(file + ": is a directory, not a file");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file");
        } catch (IOException e) {
            throw new UserError(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private static int validUtf8Prefix(byte[] bytes) {
        int lo = 0;
        int hi = bytes.length;
        while (lo < hi) {   // largest prefix that decodes (may cut inside a character: good enough for a line number)
            int mid = (lo + hi + 1) / 2;
            try {
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(bytes, 0, mid));
                lo = mid;
            } catch (CharacterCodingException e) {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /**
     * A numeric column of a CSV file with a header line: {@code column} by name (case-insensitive), or when it is
     * {@code null}, the last column. Empty lines are skipped; anything else that is not a number is an error naming
     * the line.
     */
    static double[] csvColumn(Source src, String column) {
        List<String> lines = src.lines();
        int headerLine = 0;
        while (headerLine < lines.size() && lines.get(headerLine).isBlank()) {
            headerLine++;
        }
        if (headerLine == lines.size()) {
            throw new UserError(src.name() + ": empty file (expected a CSV header line and numbers)");
        }
        String[] header = split(lines.get(headerLine));
        int col;
        if (column == null) {
            col = header.length - 1;
        } else {
            col = -1;
            for (int i = 0; i < header.length; i++) {
                if (header[i].trim().equalsIgnoreCase(column.trim())) {
                    col = i;
                }
            }
            if (col < 0) {
                throw new UserError(src.name() + ":" + (headerLine + 1) + ": no column '" + column
                        + "' in the header; columns: " + String.join(", ", Arrays.stream(header).map(String::trim)
                        .toList()));
            }
        }
        List<Double> values = new ArrayList<>();
        for (int i = headerLine + 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            String[] cells = split(line);
            if (cells.length != header.length) {
                throw new UserError(src.name() + ":" + (i + 1) + ": " + cells.length + " fields, the header has "
                        + header.length + ": '" + line + "'");
            }
            String cell = cells[col].trim();
            double v;
            try {
                v = Double.parseDouble(cell);
            } catch (NumberFormatException e) {
                throw new UserError(src.name() + ":" + (i + 1) + ": '" + cell + "' in column '" + header[col].trim()
                        + "' is not a number");
            }
            if (!Double.isFinite(v)) {
                throw new UserError(src.name() + ":" + (i + 1) + ": '" + cell + "' is not a finite number");
            }
            values.add(v);
        }
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Labelled series, one per line: {@code label,v1,v2,...}, all of the same length; an optional header line. */
    record Labelled(List<String> labels, List<double[]> series) {
    }

    static Labelled labelledSeries(Source src) {
        List<String> labels = new ArrayList<>();
        List<double[]> series = new ArrayList<>();
        int length = -1;
        List<String> lines = src.lines();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            String[] cells = split(line);
            if (cells.length < 3) {
                throw new UserError(src.name() + ":" + (i + 1) + ": expected 'label,v1,v2,...' with at least two "
                        + "values, got '" + line + "'");
            }
            double[] v = new double[cells.length - 1];
            boolean header = false;
            for (int j = 1; j < cells.length; j++) {
                try {
                    v[j - 1] = Double.parseDouble(cells[j].trim());
                } catch (NumberFormatException e) {
                    if (series.isEmpty() && labels.isEmpty()) {
                        header = true;   // a header line
                        break;
                    }
                    throw new UserError(src.name() + ":" + (i + 1) + ": value " + j + " '" + cells[j].trim()
                            + "' is not a number");
                }
            }
            if (header) {
                continue;
            }
            if (length >= 0 && v.length != length) {
                throw new UserError(src.name() + ":" + (i + 1) + ": " + v.length + " values, earlier lines have "
                        + length);
            }
            length = v.length;
            labels.add(cells[0].trim());
            series.add(v);
        }
        if (series.isEmpty()) {
            throw new UserError(src.name() + ": no series found (expected lines 'label,v1,v2,...')");
        }
        return new Labelled(labels, series);
    }

    private static String[] split(String line) {
        if (line.indexOf(',') >= 0) {
            return line.split(",", -1);
        }
        return line.indexOf(';') >= 0 ? line.split(";", -1) : line.trim().split("\\s+");
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
