/// How finely `peak_heap_bytes` resolves a call's heap: jemalloc's `thread.peak` is updated on its
/// slow paths (a thread cache fill or flush, a new extent), so a peak is right to within about
/// 100 KB. Two identical calls of a few tens of KB (linear attention's RNN state at small n) can
/// read 8 KB and 27 KB; a figure on a log axis does not draw values under it, it names them.
public enum HeapResolution {
    public static let bytes = 100_000
}
