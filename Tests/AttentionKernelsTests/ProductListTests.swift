import AttentionKernels
import Testing

/// Each kernel's product list (``AttentionKernel/products(for:)``, what `attnbench kernels` times as
/// its GEMMs) against its cost model: the FLOPs of the listed products are the model's FLOPs, less
/// only what the kernel documents as computed outside products (linear attention's normaliser). The
/// list is built from the kernel's own loop structure (flash's query and key blocks, Linformer's
/// micro-kernel choice, linear's chunks) and the model from a closed form, so a change to either that
/// the other misses fails here.
@Suite struct ProductListTests {
    /// Shapes with ragged tiles and chunks (n not a multiple of any block), d on and off the
    /// micro-kernels' multiple of 16, one and several slices.
    static let shapes = [
        AttentionShape(batch: 1, heads: 1, length: 1, headDim: 8),
        AttentionShape(batch: 2, heads: 3, length: 100, headDim: 16),
        AttentionShape(batch: 1, heads: 2, length: 130, headDim: 12),
        AttentionShape(batch: 1, heads: 8, length: 1000, headDim: 64),
        AttentionShape(batch: 1, heads: 4, length: 4096, headDim: 64),
    ]

    static func kernels(for shape: AttentionShape) throws -> [any AttentionKernel] {
        var kernels: [any AttentionKernel] = [SoftmaxAttention(), SoftmaxAttention(causal: true)]
        for kp in [16, 20] {
            let projections = LinformerProjections.seeded(
                k: kp, length: shape.length, heads: shape.heads, sharing: .none, seed: 3)
            kernels.append(try LinformerAttention(projections: projections))
        }
        kernels += [
            LinearAttention(), LinearAttention(causal: true, chunk: 32),
            LinearAttention(causal: true, chunk: 7),
        ]
        for blocks in [FlashAttention.Blocks.default, .init(query: 64, key: 48), .init(query: 5, key: 3)] {
            for causal in [false, true] {
                for products in FlashAttention.Products.allCases {
                    kernels.append(FlashAttention(causal: causal, blocks: blocks, products: products))
                }
            }
        }
        return kernels
    }

    @Test(arguments: shapes)
    func listedProductsCarryTheCostModelsFlops(_ shape: AttentionShape) throws {
        for kernel in try Self.kernels(for: shape) {
            let products = kernel.products(for: shape)
            let outside = kernel.mechanism == .linear ? LinearAttention.normaliserFlops(for: shape) : 0
            #expect(
                products.flops + outside == kernel.cost(for: shape).flops,
                "\(kernel.name) at \(shape): products \(products)")
            #expect(products.allSatisfy { $0.m >= 1 && $0.k >= 1 && $0.n >= 1 && $0.count >= 1 }, "\(kernel.name)")
        }
    }

    /// The causal recurrence runs no product (one fused loop over S per step): nothing to time alone.
    @Test func theRecurrenceListsNoProduct() {
        #expect(LinearAttention(causal: true).products(for: Self.shapes[3]).isEmpty)
    }

    /// The list follows the kernel's code, not a copy of it: Linformer's K′ is computed transposed
    /// exactly when its micro-kernels run (d and k multiples of 16), and flash's causal tiles stop at
    /// each query block's last row.
    @Test func theListFollowsTheKernelsChoices() throws {
        let shape = AttentionShape(batch: 1, heads: 2, length: 64, headDim: 16)
        for (kp, transposed) in [(16, true), (20, false)] {
            let projections = LinformerProjections.seeded(k: kp, length: 64, heads: 2, sharing: .none, seed: 1)
            let products = try LinformerAttention(projections: projections).products(for: shape)
            #expect(products.count == 4)
            #expect(products[1].transposeA == transposed && products[1].transposeB == transposed, "k = \(kp)")
        }
        let causal = FlashAttention(causal: true, blocks: .init(query: 32, key: 32)).products(for: shape)
        // Query block 0 sees key block 0, block 1 sees key blocks 0 and 1: 3 tiles of 32×32 per slice.
        #expect(
            causal == [
                GemmShape(m: 32, k: 16, n: 32, transposeB: true, count: 6),
                GemmShape(m: 32, k: 32, n: 16, count: 6),
            ])
    }
}
