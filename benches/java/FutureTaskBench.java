// Java 17 comparison for issue 8: java.util.concurrent.FutureTask and ThreadPoolExecutor in the
// scenarios of the Rust benches (P1-P6, P8). No JMH on this machine: a plain harness with a
// warm-up phase, several timed rounds and the median of the rounds. Results are printed as a
// markdown table (scenario | median | rounds) on stdout.
//
// usage: java FutureTaskBench [quick] [only=P4]      (see run.sh)

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.*;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

public final class FutureTaskBench {
    static volatile long sink;
    static boolean quick;

    /** A FutureTask completed from outside (Java's protected set), the promise shape. */
    static final class Cell<V> extends FutureTask<V> {
        Cell() { super(() -> { throw new IllegalStateException("never run"); }); }
        void complete(V v) { set(v); }
    }

    /** P4/P5 request: the partner's next request cell and this round trip's response cell. */
    static final class Req {
        final Cell<Req> next;
        final Cell<Long> resp;
        Req(Cell<Req> next, Cell<Long> resp) { this.next = next; this.resp = resp; }
    }

    interface Body { long run(long iters) throws Exception; } // returns elapsed nanoseconds

    /** Warm up, then time `rounds` rounds of about `roundMs` each; median ns per op. */
    static double measure(String name, Body body, long roundMs, int rounds) throws Exception {
        long iters = 1;
        // Calibrate: grow iters until one call takes about roundMs.
        while (true) {
            long t = body.run(iters);
            if (t >= roundMs * 1_000_000L / 2 || iters > (1L << 40)) break;
            iters *= 2;
        }
        long warmUntil = System.nanoTime() + (quick ? 300 : 2000) * 1_000_000L;
        while (System.nanoTime() < warmUntil) body.run(iters);
        double[] perOp = new double[rounds];
        for (int r = 0; r < rounds; r++) perOp[r] = (double) body.run(iters) / iters;
        Arrays.sort(perOp);
        double median = perOp[rounds / 2];
        System.out.printf("| %s | %s | %s … %s | %d |%n", name, fmt(median), fmt(perOp[0]),
                fmt(perOp[rounds - 1]), iters);
        System.out.flush();
        return median;
    }

    static String fmt(double ns) {
        if (ns < 10) return String.format("%.2f ns", ns);
        if (ns < 1_000) return String.format("%.1f ns", ns);
        if (ns < 1_000_000) return String.format("%.2f µs", ns / 1e3);
        return String.format("%.2f ms", ns / 1e6);
    }

    // ---- P1-P3 ---------------------------------------------------------------------------------

    static long p1(long iters) throws Exception {
        long t0 = System.nanoTime();
        long s = 0;
        for (long i = 0; i < iters; i++) {
            final long x = i;
            FutureTask<Long> t = new FutureTask<>(() -> x + 1);
            t.run();
            s += t.get();
        }
        long e = System.nanoTime() - t0;
        sink = s;
        return e;
    }

    static final FutureTask<Long> DONE = new FutureTask<>(() -> 42L);

    static long p2(long iters) throws Exception {
        long t0 = System.nanoTime();
        long s = 0;
        for (long i = 0; i < iters; i++) s += DONE.get();
        long e = System.nanoTime() - t0;
        sink = s;
        return e;
    }

    static long p3(long iters) throws Exception {
        long t0 = System.nanoTime();
        long s = 0;
        for (long i = 0; i < iters; i++) s += DONE.get(1, TimeUnit.SECONDS);
        long e = System.nanoTime() - t0;
        sink = s;
        return e;
    }

    // ---- P4/P5: round trip with fresh cells ---------------------------------------------------

    static long roundTrip(long iters) throws Exception {
        final long warm = 64, total = warm + iters;
        Cell<Req> first = new Cell<>();
        Thread partner = new Thread(() -> {
            try {
                Cell<Req> req = first;
                for (long i = 0; i < total; i++) {
                    Req r = req.get();
                    r.resp.complete(i);
                    req = r.next;
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        partner.start();
        Cell<Req> req = first;
        long t0 = System.nanoTime();
        long s = 0;
        for (long i = 0; i < total; i++) {
            if (i == warm) t0 = System.nanoTime();
            Cell<Req> next = new Cell<>();
            Cell<Long> resp = new Cell<>();
            req.complete(new Req(next, resp));
            s += resp.get();
            req = next;
        }
        long e = System.nanoTime() - t0;
        partner.join();
        sink = s;
        return e;
    }

    // ---- P6: 8 waiters -------------------------------------------------------------------------

    @SuppressWarnings("unchecked")
    static long wakeAll(long iters) throws Exception {
        final int n = 8;
        final CyclicBarrier go = new CyclicBarrier(n + 1);
        final AtomicInteger woken = new AtomicInteger();
        final Cell<Long>[] slot = new Cell[1];
        final boolean[] stop = new boolean[1];
        List<Thread> ts = new ArrayList<>();
        for (int w = 0; w < n; w++) {
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        go.await();
                        if (stop[0]) return;
                        sink = slot[0].get();
                        woken.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            t.start();
            ts.add(t);
        }
        long total = 0;
        for (long i = 0; i < iters; i++) {
            Cell<Long> c = new Cell<>();
            slot[0] = c;
            woken.set(0);
            go.await();
            // Wait until every waiter is parked on the task (their thread state says so).
            for (Thread t : ts) {
                while (t.getState() != Thread.State.WAITING || LockSupport.getBlocker(t) != c) Thread.yield();
            }
            long settle = System.nanoTime();
            while (System.nanoTime() - settle < 20_000) Thread.yield();
            long t0 = System.nanoTime();
            c.complete(42L);
            while (woken.get() < n) Thread.yield();
            total += System.nanoTime() - t0;
        }
        stop[0] = true;
        go.await();
        for (Thread t : ts) t.join();
        return total;
    }

    // ---- P8: ThreadPoolExecutor, 100k tiny tasks ----------------------------------------------

    static ThreadPoolExecutor pool;

    static long work(long i) { return (i * 0x9E3779B97F4A7C15L) >>> 7; }

    static long p8(long iters) throws Exception {
        final int tasks = 100_000;
        long t0 = System.nanoTime();
        for (long it = 0; it < iters; it++) {
            List<Future<Long>> fs = new ArrayList<>(tasks);
            for (int i = 0; i < tasks; i++) {
                final long x = i;
                fs.add(pool.submit(() -> work(x)));
            }
            long s = 0;
            for (Future<Long> f : fs) s += f.get();
            sink = s;
        }
        return System.nanoTime() - t0;
    }

    public static void main(String[] args) throws Exception {
        String only = null;
        for (String a : args) {
            if (a.equals("quick")) quick = true;
            if (a.startsWith("only=")) only = a.substring(5);
        }
        DONE.run();
        int cpus = Runtime.getRuntime().availableProcessors();
        pool = new ThreadPoolExecutor(cpus, cpus, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
        int rounds = quick ? 5 : 11;
        long ms = quick ? 100 : 300;
        System.out.println("| scenario | median per op | fastest … slowest round | ops per round |");
        System.out.println("|---|---|---|---|");
        if (only == null || only.equals("P1")) measure("P1 new FutureTask + run + get", FutureTaskBench::p1, ms, rounds);
        if (only == null || only.equals("P2")) measure("P2 get of a done task", FutureTaskBench::p2, ms, rounds);
        if (only == null || only.equals("P3")) measure("P3 get(1 s) of a done task", FutureTaskBench::p3, ms, rounds);
        if (only != null && only.equals("P4")) measure("P4 round trip, JVM pinned to one CPU (taskset)", FutureTaskBench::roundTrip, ms, rounds);
        if (only == null || only.equals("P5")) measure("P5 round trip, unpinned", FutureTaskBench::roundTrip, ms, rounds);
        if (only == null || only.equals("P6")) measure("P6 8 waiters woken", FutureTaskBench::wakeAll, ms, rounds);
        if (only == null || only.equals("P8")) {
            double perBatch = measure("P8 ThreadPoolExecutor(" + cpus + "), 100k tasks submitted + collected", FutureTaskBench::p8, ms * 3, rounds);
            System.out.printf("| P8 throughput | %.2f M tasks/s | | |%n", 100_000 / perBatch * 1e3);
        }
        pool.shutdown();
    }
}
