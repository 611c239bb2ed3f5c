/// Flash attention's kernels (its C-free half: ``MechanismDescriptor/flash``). Its cost depends on
/// the thread count (one tile per worker).
extension MechanismKernels {
    public static let flash = MechanismKernels(
        .flash,
        make: { settings, _, _, _ in FlashAttention(causal: settings.causal) },
        makeTiled: { causal, blocks in FlashAttention(causal: causal, blocks: blocks) },
        cost: { settings, shape, pass, threads in
            FlashAttention(causal: settings.causal).cost(for: shape, threads: threads, pass: pass)
        },
        coreCost: { settings, shape, threads in
            CoreCost(FlashAttention(causal: settings.causal), shape: shape, threads: threads)
        },
        verificationKernels: { _, _, _ in
            // The default tiles and small ones (several tiles at verified n, partial and straddling
            // the diagonal), through the micro-kernels where d allows, then the small ones through OpenBLAS.
            let small = FlashAttention.Blocks.small
            var kernels: [any AttentionKernel] = []
            for blocks in [FlashAttention.Blocks.default, small] {
                kernels += [FlashAttention(blocks: blocks), FlashAttention(causal: true, blocks: blocks)]
            }
            return kernels + [
                FlashAttention(blocks: small, products: .blas),
                FlashAttention(causal: true, blocks: small, products: .blas),
            ]
        },
        layerCores: { settings in
            [
                settings.same("flash", FlashAttention(blocks: settings.flashBlocks)),
                settings.same("flash (causal)", FlashAttention(causal: true, blocks: settings.flashBlocks)),
            ]
        })
}
