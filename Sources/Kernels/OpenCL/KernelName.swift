/// Every OpenCL kernel SwinLiver launches, with the program (kernels/<program>.cl) that defines it.
enum KernelName: String, CaseIterable {
    case fill, unary_forward, bias_unary_forward, unary_backward, binary_forward, add_activated, axpy, broadcast_add
    case dropout_mask
    case reduce_keep_middle, reduce_middle, reduce_middle_partial
    case softmax_forward, softmax_backward
    case norm_forward, norm_apply, norm_backward, norm_backward_sums, norm_backward_input, norm_column_param_grads
    case norm_stats_partial, norm_stats_finish, norm_backward_sums_finish, norm_column_param_finish
    case im2col, col2im, conv_forward_implicit
    case max_pool2d_forward, max_pool2d_backward, avg_pool2d_forward, avg_pool2d_backward
    case adaptive_avg_pool2d_forward, adaptive_avg_pool2d_backward
    case permute, copy_block
    case adamw_step, finite_gate
    case box_copy, box_accumulate, box_normalize
    case dice_ce_softmax, dice_sums, dice_ce_finalize, dice_ce_backward
    case cross_entropy_rows, cross_entropy_rows_backward, row_l2_normalize, row_l2_normalize_backward
    case window_partition, window_merge, window_attention_softmax, index_gather_sum, patch_merge, patch_merge_backward
    case window_attention_forward, window_attention_row_dot, window_attention_backward_q, window_attention_backward_kv
    case window_attention_pad_grad, window_attention_pad_grad_finish, window_attention_backward_bias
    case gemm_splitk_sum

    var program: String {
        switch self {
        case .fill, .unary_forward, .bias_unary_forward, .unary_backward, .binary_forward, .add_activated, .axpy,
             .broadcast_add, .dropout_mask:
            "elementwise"
        case .reduce_keep_middle, .reduce_middle, .reduce_middle_partial: "reduce"
        case .softmax_forward, .softmax_backward: "softmax"
        case .norm_forward, .norm_apply, .norm_backward, .norm_backward_sums, .norm_backward_input, .norm_column_param_grads,
             .norm_stats_partial, .norm_stats_finish, .norm_backward_sums_finish, .norm_column_param_finish:
            "norm"
        case .im2col, .col2im, .conv_forward_implicit: "conv"
        case .max_pool2d_forward, .max_pool2d_backward, .avg_pool2d_forward, .avg_pool2d_backward,
             .adaptive_avg_pool2d_forward, .adaptive_avg_pool2d_backward: "pool"
        case .permute, .copy_block: "layout"
        case .adamw_step, .finite_gate: "optim"
        case .box_copy, .box_accumulate, .box_normalize: "box"
        case .dice_ce_softmax, .dice_sums, .dice_ce_finalize, .dice_ce_backward, .cross_entropy_rows,
             .cross_entropy_rows_backward, .row_l2_normalize, .row_l2_normalize_backward: "loss"
        case .window_partition, .window_merge, .window_attention_softmax, .index_gather_sum, .patch_merge,
             .patch_merge_backward: "swin"
        case .window_attention_forward, .window_attention_row_dot, .window_attention_backward_q,
             .window_attention_backward_kv, .window_attention_pad_grad, .window_attention_pad_grad_finish,
             .window_attention_backward_bias:
            "window_attention"
        case .gemm_splitk_sum: "gemm"
        }
    }
}
