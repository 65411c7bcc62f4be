package dev.tinygrad4j;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

/**
 * The device suite (what surefire's device executions run) as a plain main, for a machine with a Java runtime but
 * no Maven: {@code DEV=CUDA java -cp ... dev.tinygrad4j.DeviceSuiteMain}. Exits 1 if a test fails.
 */
public final class DeviceSuiteMain {
  private DeviceSuiteMain() {}

  public static void main(String[] args) {
    var request = LauncherDiscoveryRequestBuilder.request().selectors(selectPackage("dev.tinygrad4j.ops"),
        selectClass("dev.tinygrad4j.DTypeTest"), selectClass("dev.tinygrad4j.EdgeCaseTest"), selectClass("dev.tinygrad4j.MemoryTest"), selectClass("dev.tinygrad4j.SymbolicShapeTest"),
        selectClass("dev.tinygrad4j.engine.MovementFuzzTest"), selectClass("dev.tinygrad4j.nn.NnReferenceTest")).build();
    var summary = new SummaryGeneratingListener();
    LauncherFactory.create().execute(request, summary);
    var out = new PrintWriter(System.out, true);
    summary.getSummary().printFailuresTo(out, 20);
    summary.getSummary().printTo(out);
    System.exit(summary.getSummary().getTotalFailureCount() == 0 ? 0 : 1);
  }
}
