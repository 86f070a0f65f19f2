package org.dl4jclipping.examples;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG line charts (XChart, headless). */
public final class Charts {

    private Charts() {
    }

    /** A chart of named series; non-finite points are dropped (and non-positive ones on a log axis). */
    public static final class Line {
        private final XYChart chart;
        private final boolean logY;
        private final boolean logX;

        public Line(String title, String xTitle, String yTitle, boolean logX, boolean logY) {
            chart = new XYChartBuilder().width(800).height(450).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle)
                    .build();
            chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
            chart.getStyler().setMarkerSize(4);
            chart.getStyler().setXAxisLogarithmic(logX);
            chart.getStyler().setYAxisLogarithmic(logY);
            chart.getStyler().setChartBackgroundColor(Color.WHITE);
            this.logX = logX;
            this.logY = logY;
        }

        public Line series(String name, double[] x, double[] y, boolean markers) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int i = 0; i < x.length; i++) {
                if (Double.isFinite(x[i]) && Double.isFinite(y[i]) && (!logY || y[i] > 0) && (!logX || x[i] > 0)) {
                    xs.add(x[i]);
                    ys.add(y[i]);
                }
            }
            if (xs.isEmpty()) {
                return this;
            }
            XYSeries s = chart.addSeries(name, xs, ys);
            s.setMarker(markers ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
            return this;
        }

        /** A horizontal dashed line across {@code [x0, x1]}. */
        public Line horizontal(String name, double y, double x0, double x1) {
            XYSeries s = chart.addSeries(name, new double[] {x0, x1}, new double[] {y, y});
            s.setMarker(SeriesMarkers.NONE);
            s.setLineStyle(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    new float[] {8f, 6f}, 0f));
            s.setLineColor(Color.RED);
            return this;
        }

        public Path save(Path file) throws IOException {
            Files.createDirectories(file.toAbsolutePath().getParent());
            BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
            return file;
        }
    }

    /** Training loss per step, with a moving average. */
    public static Path loss(Path file, String title, String yTitle, StepLog log) throws IOException {
        List<StepLog.Row> rows = log.rows();
        double[] x = new double[rows.size()];
        double[] y = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            x[i] = rows.get(i).step();
            y[i] = rows.get(i).loss();
        }
        Line chart = new Line(title, "step", yTitle, false, false).series("loss", x, y, false);
        if (rows.size() >= 20) {
            chart.series("moving average (" + Math.max(5, rows.size() / 20) + " steps)", x,
                    movingAverage(y, Math.max(5, rows.size() / 20)), false);
        }
        return chart.save(file);
    }

    /** Global gradient norm before and after clipping, log scale, with the global-norm threshold when there is one. */
    public static Path gradientNorms(Path file, String title, StepLog log, OptionalDouble threshold)
            throws IOException {
        List<StepLog.Row> rows = log.rows();
        double[] x = new double[rows.size()];
        double[] before = new double[rows.size()];
        double[] after = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            x[i] = rows.get(i).step();
            before[i] = rows.get(i).normBefore();
            after[i] = rows.get(i).normAfter();
        }
        Line chart = new Line(title, "step", "global L2 norm of the mean gradient", false, true)
                .series("before clipping", x, before, false)
                .series("after clipping", x, after, false);
        if (threshold.isPresent() && x.length > 0) {
            chart.horizontal("threshold " + threshold.getAsDouble(), threshold.getAsDouble(), x[0], x[x.length - 1]);
        }
        return chart.save(file);
    }

    static double[] movingAverage(double[] y, int window) {
        double[] out = new double[y.length];
        double sum = 0;
        int n = 0;
        for (int i = 0; i < y.length; i++) {
            if (Double.isFinite(y[i])) {
                sum += y[i];
                n++;
            }
            if (i >= window && Double.isFinite(y[i - window])) {
                sum -= y[i - window];
                n--;
            }
            out[i] = n > 0 ? sum / n : Double.NaN;
        }
        return out;
    }
}
