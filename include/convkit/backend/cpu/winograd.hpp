#pragma once
// Winograd's F(2x2, 3x3) for the forward pass of 3x3, stride-1 float convolutions with
// many channels (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2016). Each 2x2 block of outputs (a tile) comes from a 4x4 block of input d:
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
// where (.) multiplies elementwise. Summed over input channels, the 16 elementwise
// products are 16 matrix products U[xi] (O x C) * V[xi] (C x tiles): 16 multiplications
// per tile and channel pair where direct convolution needs 36, so 2.25x fewer flops. The
// transforms are additions. The tiles run in chunks of whole tile rows, small enough
// that a chunk's V and products stay in cache; chunks run in parallel.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../ops/geometry.hpp"
#include "elementwise.hpp"
#include "gemm.hpp"
#include "memory.hpp"
#include "parallel.hpp"

namespace convkit::backend::cpu {

/// True when the forward pass goes through Winograd: float, a 3x3 kernel, stride and
/// dilation 1, one group, and at least 16 input and output channels (below that the
/// products are too thin to gain). CONVKIT_CONV_ALGO=im2col or =indirect turns it off,
/// to compare (the tests compare both against the reference).
inline bool use_winograd(const Conv2dGeometry& g) {
  if (!(g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.groups == 1 && g.C >= 16 &&
        g.O >= 16 && g.OH >= 2 && g.OW >= 2))
    return false;
  static const bool off = [] {
    const char* env = std::getenv("CONVKIT_CONV_ALGO");
    const std::string algo = env ? env : "";
    return algo == "im2col" || algo == "indirect";
  }();
  return !off;
}

namespace winograd {

constexpr int kTileValues = 16;  // a 4x4 transformed tile

/// U[xi] = (G g G^T)[xi] for every (o, c): 16 matrices of O x C, xi = 4 * row + column.
/// G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
inline void transform_weights(int64_t O, int64_t C, const float* w, float* U) {
  const int64_t OC = O * C;
  for (int64_t oc = 0; oc < OC; ++oc) {
    const float* k = w + oc * 9;
    float t[4][3];  // G g: the rows
    for (int j = 0; j < 3; ++j) {
      t[0][j] = k[j];
      t[1][j] = 0.5f * (k[j] + k[3 + j] + k[6 + j]);
      t[2][j] = 0.5f * (k[j] - k[3 + j] + k[6 + j]);
      t[3][j] = k[6 + j];
    }
    for (int i = 0; i < 4; ++i) {  // (G g) G^T: the columns
      U[(4 * i + 0) * OC + oc] = t[i][0];
      U[(4 * i + 1) * OC + oc] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
      U[(4 * i + 2) * OC + oc] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
      U[(4 * i + 3) * OC + oc] = t[i][2];
    }
  }
}

/// One chunk: tile rows [r0, r1) of the batch (row r is image r / tiles_h, tile row
/// r % tiles_h), tiles_w tiles each.
struct Layout {
  /// Tiles down and across one image.
  ///@{
  int64_t tiles_h, tiles_w;
  ///@}
  int64_t row_width;  ///< a zero-padded input row: W + 2 * pw, plus slack for the last tile
  /// The tiles of g's output.
  explicit Layout(const Conv2dGeometry& g)
      : tiles_h((g.OH + 1) / 2), tiles_w((g.OW + 1) / 2), row_width(2 * ((g.OW + 1) / 2) + 2 + 16) {}
};

/// V[xi][c][t] = (B^T d B)[xi] for tile t of the chunk and channel c (T tiles in all),
/// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. The row transform runs over whole
/// padded rows, then the column transform over the row's tiles.
inline void transform_input(const Conv2dGeometry& g, const Layout& L, const float* x, int64_t r0, int64_t r1, int64_t T,
                            float* V, float* scratch) {
  const int64_t width = L.row_width;
  float* rows[4];
  float* t[4];  // B^T d, row by row
  for (int i = 0; i < 4; ++i) {
    rows[i] = scratch + i * width;
    t[i] = scratch + (4 + i) * width;
  }
  for (int64_t c = 0; c < g.C; ++c) {
    int64_t tile = 0;
    for (int64_t r = r0; r < r1; ++r, tile += L.tiles_w) {
      const int64_t n = r / L.tiles_h, ti = r % L.tiles_h;
      const float* plane = x + (n * g.C + c) * g.H * g.W;
      for (int i = 0; i < 4; ++i) {  // input rows 2 ti - ph + i, zero outside, padded by pw
        const int64_t h = 2 * ti - g.ph + i;
        float* dst = rows[i];
        std::fill(dst, dst + width, 0.0f);
        if (h < 0 || h >= g.H) continue;
        copy_short(plane + h * g.W, std::min<int64_t>(g.W, width - g.pw), dst + g.pw);
      }
      CONVKIT_SIMD for (int64_t q = 0; q < width; ++q) {
        t[0][q] = rows[0][q] - rows[2][q];
        t[1][q] = rows[1][q] + rows[2][q];
        t[2][q] = rows[2][q] - rows[1][q];
        t[3][q] = rows[1][q] - rows[3][q];
      }
      // The column transform, tile by tile: tile k reads columns 2k .. 2k+3 of each row.
      for (int i = 0; i < 4; ++i) {
        const float* s = t[i];
        float* v0 = V + ((4 * i) * g.C + c) * T + tile;
        float* v1 = v0 + g.C * T;
        float* v2 = v1 + g.C * T;
        float* v3 = v2 + g.C * T;
        CONVKIT_SIMD for (int64_t k = 0; k < L.tiles_w; ++k) {
          const float a = s[2 * k], b = s[2 * k + 1], c2 = s[2 * k + 2], d = s[2 * k + 3];
          v0[k] = a - c2;
          v1[k] = b + c2;
          v2[k] = c2 - b;
          v3[k] = b - d;
        }
      }
    }
  }
}

/// y for tile rows [r0, r1) from the products M[xi][o][t] (T tiles), plus the bias:
/// Y = A^T m A with A^T = [1 1 1 0; 0 1 -1 -1]. A last tile row or column past an odd
/// output size is dropped.
inline void transform_output(const Conv2dGeometry& g, const Layout& L, const float* M, const float* b, int64_t r0,
                             int64_t r1, int64_t T, float* y, float* scratch) {
  const int64_t tw = L.tiles_w;
  float* out[2] = {scratch, scratch + 2 * tw};  // the two output rows of a tile row
  for (int64_t o = 0; o < g.O; ++o) {
    const float bias = b ? b[o] : 0.0f;
    int64_t tile = 0;
    for (int64_t r = r0; r < r1; ++r, tile += tw) {
      const int64_t n = r / L.tiles_h, ti = r % L.tiles_h;
      auto m = [&](int xi) { return M + (xi * g.O + o) * T + tile; };
      const float* mm[16];
      for (int xi = 0; xi < 16; ++xi) mm[xi] = m(xi);
      float *row0 = out[0], *row1 = out[1];
      CONVKIT_SIMD for (int64_t k = 0; k < tw; ++k) {
        float s0[4], s1[4];  // A^T m: its two rows
        for (int j = 0; j < 4; ++j) {
          s0[j] = mm[j][k] + mm[4 + j][k] + mm[8 + j][k];
          s1[j] = mm[4 + j][k] - mm[8 + j][k] - mm[12 + j][k];
        }
        row0[2 * k] = s0[0] + s0[1] + s0[2] + bias;
        row0[2 * k + 1] = s0[1] - s0[2] - s0[3] + bias;
        row1[2 * k] = s1[0] + s1[1] + s1[2] + bias;
        row1[2 * k + 1] = s1[1] - s1[2] - s1[3] + bias;
      }
      float* yo = y + (n * g.O + o) * g.OH * g.OW;
      for (int i = 0; i < 2; ++i) {
        const int64_t h = 2 * ti + i;
        if (h < g.OH) copy_short(out[i], g.OW, yo + h * g.OW);
      }
    }
  }
}

}  // namespace winograd

/// The forward pass by F(2x2, 3x3); see the file comment. use_winograd(g) must hold.
inline void winograd_conv2d_forward(const Conv2dGeometry& g, const float* x, const float* w, const float* b, float* y) {
  using namespace winograd;
  const Layout L(g);
  Workspace<float> U(static_cast<size_t>(kTileValues * g.O * g.C));
  transform_weights(g.O, g.C, w, U.data());
  std::vector<PreparedA<float>> weights;
  weights.reserve(kTileValues);
  for (int xi = 0; xi < kTileValues; ++xi) weights.emplace_back(false, g.O, g.C, U.data() + xi * g.O * g.C);
  // About 256 tiles per chunk: each product then reuses its packed U[xi] (L2-sized for
  // 256 channels) over eight column panels; with a few dozen tiles, streaming U dominated.
  // The chunk count is a multiple of the threads, so they get equal shares.
  const int64_t total_rows = g.N * L.tiles_h, threads = max_threads();
  int64_t chunks = std::max<int64_t>(1, (total_rows * L.tiles_w + 255) / 256);
  chunks = std::min(total_rows, (chunks + threads - 1) / threads * threads);
  const int64_t rows_per_chunk = (total_rows + chunks - 1) / chunks;
  chunks = (total_rows + rows_per_chunk - 1) / rows_per_chunk;
  const int64_t T_max = rows_per_chunk * L.tiles_w;
  parallel_for(chunks, kTileValues * g.O * g.C * T_max * 2, [&](int64_t c0, int64_t c1) {
    Workspace<float> V(static_cast<size_t>(kTileValues * g.C * T_max)),
        M(static_cast<size_t>(kTileValues * g.O * T_max)),
        scratch(static_cast<size_t>(std::max<int64_t>(8 * L.row_width, 4 * L.tiles_w)));
    for (int64_t chunk = c0; chunk < c1; ++chunk) {
      const int64_t r0 = chunk * rows_per_chunk, r1 = std::min(total_rows, r0 + rows_per_chunk);
      const int64_t T = (r1 - r0) * L.tiles_w;
      transform_input(g, L, x, r0, r1, T, V.data(), scratch.data());
      for (int xi = 0; xi < kTileValues; ++xi)
        weights[static_cast<size_t>(xi)].multiply(false, T, 1.0f, V.data() + xi * g.C * T, 0.0f,
                                                  M.data() + xi * g.O * T);
      transform_output(g, L, M.data(), b, r0, r1, T, y, scratch.data());
    }
  });
}

/// The input-gradient pass of a 3x3 stride-1 convolution as a forward one: gx is gy,
/// padded by 2 - p, correlated with the weights flipped in space and with input and output
/// channels swapped. Returns the geometry of that convolution.
inline Conv2dGeometry input_gradient_geometry(const Conv2dGeometry& g) {
  Conv2dGeometry t = g;
  t.C = g.O;
  t.O = g.C;
  t.H = g.OH;
  t.W = g.OW;
  t.ph = 2 - g.ph;
  t.pw = 2 - g.pw;
  t.OH = g.H;
  t.OW = g.W;
  return t;
}

/// True when conv2d_backward computes gx by winograd_input_gradient.
inline bool use_winograd_input_gradient(const Conv2dGeometry& g) {
  return g.kh == 3 && g.kw == 3 && g.ph <= 2 && g.pw <= 2 && use_winograd(g) &&
         use_winograd(input_gradient_geometry(g));
}

/// gx (overwritten) for use_winograd_input_gradient(g).
inline void winograd_input_gradient(const Conv2dGeometry& g, const float* w, const float* gy, float* gx) {
  Workspace<float> flipped(static_cast<size_t>(g.C * g.O * 9));
  float* wt = flipped.data();
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t c = 0; c < g.C; ++c)
      for (int k = 0; k < 9; ++k) wt[(c * g.O + o) * 9 + k] = w[(o * g.C + c) * 9 + (8 - k)];
  winograd_conv2d_forward(input_gradient_geometry(g), gy, wt, nullptr, gx);
}

}  // namespace convkit::backend::cpu
