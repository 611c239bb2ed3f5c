/// Loops over one d-vector, 16 lanes at a time with fused multiply-adds, for the linear backward
/// passes: a dot product does not vectorise by itself (its sum would have to be reassociated), so
/// its lanes are summed once at the end. Cost `2·count` FLOPs per product.
package enum Lanes {
    package typealias Vector = Softmax.Vector

    /// Σ_c x[c] · y[c].
    @inline(__always)
    static func dot(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) -> Float {
        var lanes = Vector()
        var c = 0
        while c + Vector.scalarCount <= count {
            lanes = lanes.addingProduct(Softmax.load(x + c), Softmax.load(y + c))
            c += Vector.scalarCount
        }
        var sum = total(lanes)
        while c < count {
            sum += x[c] * y[c]
            c += 1
        }
        return sum
    }

    /// `row[c] += a · x[c]`, then `target[c] += b · row[c]` over the updated row.
    @inline(__always)
    static func accumulate(
        into row: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafeMutablePointer<Float>, count: Int,
        andAdd b: Float, into target: UnsafeMutablePointer<Float>
    ) {
        var c = 0
        while c + Vector.scalarCount <= count {
            let updated = Softmax.load(row + c).addingProduct(a, Softmax.load(x + c))
            Softmax.store(updated, row + c)
            Softmax.store(Softmax.load(target + c).addingProduct(b, updated), target + c)
            c += Vector.scalarCount
        }
        while c < count {
            row[c] += a * x[c]
            target[c] += b * row[c]
            c += 1
        }
    }

    /// `row[c] += a · x[c]` and `target[c] += b · row[c]` over the updated row, returning
    /// Σ_c row[c] · y[c].
    @inline(__always)
    static func accumulate(
        into row: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafeMutablePointer<Float>,
        dot y: UnsafeMutablePointer<Float>, count: Int, andAdd b: Float, into target: UnsafeMutablePointer<Float>
    ) -> Float {
        var lanes = Vector()
        var c = 0
        while c + Vector.scalarCount <= count {
            let updated = Softmax.load(row + c).addingProduct(a, Softmax.load(x + c))
            Softmax.store(updated, row + c)
            lanes = lanes.addingProduct(updated, Softmax.load(y + c))
            Softmax.store(Softmax.load(target + c).addingProduct(b, updated), target + c)
            c += Vector.scalarCount
        }
        var sum = total(lanes)
        while c < count {
            row[c] += a * x[c]
            sum += row[c] * y[c]
            target[c] += b * row[c]
            c += 1
        }
        return sum
    }

    /// The sum of the 16 lanes as a tree of halves (4 vector additions; `SIMD.sum()` adds the lanes
    /// one after another, 15 dependent additions).
    @inline(__always)
    package static func total(_ v: Vector) -> Float {
        let eight = v.lowHalf + v.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }
}
