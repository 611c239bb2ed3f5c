// The vocabulary the kernels are named by (`Mechanism`, `ProjectionSharing`) comes with them, so a
// package that imports AttentionKernels needs no second import.
@_exported import AttentionTypes
