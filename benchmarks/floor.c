/*
 * floor.c -- hand-written single-threaded C loop of one time step of the
 * model in docs/model.md (the speed floor for the benchmark; not used by
 * the tests).
 *
 * R independent replicas of N rate neurons, N_s = 12 inputs, learning rules
 * of docs/model.md section "One step, in order".  The caller owns every
 * state array (C-contiguous doubles, replica-major) and this code updates
 * them in place:
 *
 *   theta[R], r[R*N], W[R*N*N], C[R*N*NS], b[R*N], D[R*nout*N],
 *   rr_bar[R*N*N], rs_bar[R*N*NS], r_bar[R*N]
 *
 * Noise: a xoshiro256+ generator and the Marsaglia polar method, drawn per
 * step inside the timed loop (R stimulus draws, then R*N neuron draws).  For
 * the cross-check against the NumPy loop the normals can instead be given
 * as arrays z_s[step*R + q] and z[step*R*N + q*N + i] (docs/model.md,
 * "Noise").
 *
 * Work per step and replica: ONE pass over the N x N matrices that updates
 * rr_bar, updates W and accumulates W r with the new W and the new r, i.e.
 * the recurrent input of the next step (so W is read once per step).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS 12

/* --------------------------------------------------------------- noise -- */

typedef struct { uint64_t s[4]; int has_spare; double spare; } rng_t;

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *g, uint64_t seed)
{
    for (int i = 0; i < 4; i++) g->s[i] = splitmix64(&seed);
    g->has_spare = 0;
    g->spare = 0.0;
}

/* xoshiro256+ */
static inline uint64_t rng_next(rng_t *g)
{
    uint64_t *s = g->s;
    const uint64_t result = s[0] + s[3];
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* uniform in [-1, 1) from the top 53 bits */
static inline double rng_sym(rng_t *g)
{
    return (double)(rng_next(g) >> 11) * 0x1.0p-52 - 1.0;
}

/* fill out[0..n) with standard normals (Marsaglia polar method) */
static void fill_normal(rng_t *g, double *out, long n)
{
    long i = 0;
    if (n > 0 && g->has_spare) { out[i++] = g->spare; g->has_spare = 0; }
    while (i < n) {
        double u, v, q;
        do {
            u = rng_sym(g);
            v = rng_sym(g);
            q = u * u + v * v;
        } while (q >= 1.0 || q == 0.0);
        const double m = sqrt(-2.0 * log(q) / q);
        out[i++] = u * m;
        if (i < n) out[i++] = v * m;
        else { g->spare = v * m; g->has_spare = 1; }
    }
}

/* ---------------------------------------------------------- parameters -- */

/* layout of the params[] array passed by floor.py */
enum {
    P_DT, P_SIGMA, P_KAPPA, P_MU, P_SIGMA_S, P_K_BAR,
    P_A, P_BETA, P_G, P_R_MIN, P_R_MAX,
    P_ETA_W, P_ETA_C, P_ETA_B, P_ETA_D,
    P_LAM_W, P_LAM_C, P_LAM_B, P_LAM_D,
    P_PLASTIC,
    P_COUNT
};

int floor_n_params(void) { return P_COUNT; }

/* ---------------------------------------------------------------- run --- */

/*
 * task: 0 = estimation (n_out = 2), 1 = classification (n_out = 1).
 * reward_sum_out[n_blocks]: sum over the steps of block b and over the
 *   replicas of alpha (n_blocks = ceil(steps / block)); may be NULL.
 * seconds_out: wall-clock time of the step loop only (noise included).
 * ext_zs / ext_z: NULL, or the normals to use instead of the generator.
 * Returns 0 on success.
 */
int floor_run(int task, int N, int R, long steps, const double *params,
              uint64_t seed,
              double *theta, double *r, double *W, double *C, double *b,
              double *D, double *rr_bar, double *rs_bar, double *r_bar,
              const double *ext_zs, const double *ext_z,
              long block, double *reward_sum_out, double *seconds_out)
{
    const double dt = params[P_DT], sigma = params[P_SIGMA];
    const double kappa = params[P_KAPPA], mu = params[P_MU];
    const double sigma_s = params[P_SIGMA_S], k_bar = params[P_K_BAR];
    const double a = params[P_A], beta = params[P_BETA], gain = params[P_G];
    const double r_min = params[P_R_MIN], r_max = params[P_R_MAX];
    const double plastic = params[P_PLASTIC];
    const double g_W = plastic * dt * 100.0 * params[P_ETA_W];
    const double g_C = plastic * dt * 100.0 * params[P_ETA_C];
    const double g_b = plastic * dt * 100.0 * params[P_ETA_B];
    const double g_D = plastic * dt * 100.0 * params[P_ETA_D];
    const double lam_W = params[P_LAM_W], lam_C = params[P_LAM_C];
    const double lam_b = params[P_LAM_B], lam_D = params[P_LAM_D];
    const int n_out = (task == 0) ? 2 : 1;

    const double drift = dt * kappa * sigma_s * sigma_s;
    const double stim_noise = sigma_s * sqrt(dt);
    const double rate_noise = sigma * sqrt(dt);
    const double inv_beta = 1.0 / beta, inv_g = 1.0 / gain;
    const double two_pi = 2.0 * M_PI, inv_two_pi = 1.0 / (2.0 * M_PI);
    /* W <- (1 - g_W lam_W) W + g_W alpha (r r^T - rr_bar), same for C, b, D */
    const double decay_W = 1.0 - g_W * lam_W, decay_C = 1.0 - g_C * lam_C;
    const double decay_b = 1.0 - g_b * lam_b, decay_D = 1.0 - g_D * lam_D;

    if (N <= 0 || R <= 0 || steps < 0 || block <= 0) return 1;

    double cos_k[NS], sin_k[NS];
    for (int k = 0; k < NS; k++) {
        const double th_k = -M_PI + 2.0 * M_PI * k / NS;
        cos_k[k] = cos(th_k);
        sin_k[k] = sin(th_k);
    }

    const long nz = (long)R * (N + 1);
    double *zbuf = NULL, *Wr = NULL, *rn = NULL, *s = NULL;
    if (posix_memalign((void **)&zbuf, 64, sizeof(double) * nz) ||
        posix_memalign((void **)&Wr, 64, sizeof(double) * R * N) ||
        posix_memalign((void **)&rn, 64, sizeof(double) * N) ||
        posix_memalign((void **)&s, 64, sizeof(double) * NS)) {
        free(zbuf); free(Wr); free(rn); free(s);
        return 2;
    }

    rng_t gen;
    rng_seed(&gen, seed);

    /* recurrent input of the first step: W r with the initial state */
    for (int q = 0; q < R; q++) {
        const double *Wq = W + (long)q * N * N, *rq = r + (long)q * N;
        for (int i = 0; i < N; i++) {
            double acc = 0.0;
            for (int j = 0; j < N; j++) acc += Wq[(long)i * N + j] * rq[j];
            Wr[(long)q * N + i] = acc;
        }
    }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    double block_sum = 0.0;
    for (long n = 0; n < steps; n++) {
        /* noise of this step: zbuf[0..R) stimulus, zbuf[R..R+R*N) neurons */
        if (ext_zs) {
            memcpy(zbuf, ext_zs + n * R, sizeof(double) * R);
            memcpy(zbuf + R, ext_z + n * (long)R * N, sizeof(double) * R * N);
        } else {
            fill_normal(&gen, zbuf, nz);
        }

        for (int q = 0; q < R; q++) {
            double *restrict rq = r + (long)q * N;
            double *restrict Wq = W + (long)q * N * N;
            double *restrict rrq = rr_bar + (long)q * N * N;
            double *restrict Cq = C + (long)q * N * NS;
            double *restrict rsq = rs_bar + (long)q * N * NS;
            double *restrict bq = b + (long)q * N;
            double *restrict rbq = r_bar + (long)q * N;
            double *restrict Dq = D + (long)q * n_out * N;
            double *restrict Wrq = Wr + (long)q * N;
            const double *restrict z = zbuf + R + (long)q * N;

            /* 1. stimulus */
            double th = theta[q];
            th = th - drift * sin(th - mu) + stim_noise * zbuf[q];
            th = th - two_pi * floor((th + M_PI) * inv_two_pi);
            theta[q] = th;
            const double ct = cos(th), st = sin(th);

            /* 2. inputs: cos(th - th_k) = cos th cos th_k + sin th sin th_k */
            for (int k = 0; k < NS; k++) {
                const double v = ct * cos_k[k] + st * sin_k[k];
                s[k] = v > 0.0 ? v : 0.0;
            }

            /* 3. rates (W r is Wrq, computed at the end of the last step);
             * f^-1(r) = (log(exp(x) - 1) - a)/g with x = r/beta, written
             * x + log(-expm1(-x)) so that it stays finite up to r_max */
            for (int i = 0; i < N; i++) {
                const double *Ci = Cq + (long)i * NS;
                double u = Wrq[i] + bq[i];
                for (int k = 0; k < NS; k++) u += Ci[k] * s[k];
                const double x = rq[i] * inv_beta;
                const double finv = (x + log(-expm1(-x)) - a) * inv_g;
                double v = rq[i] + dt * (-finv + u) + rate_noise * z[i];
                v = v < r_min ? r_min : v;
                v = v > r_max ? r_max : v;
                rn[i] = v;
            }
            memcpy(rq, rn, sizeof(double) * N);

            /* 4. readout, reward, decoder error */
            double alpha, delta0, delta1 = 0.0;
            if (task == 0) {
                double y0 = 0.0, y1 = 0.0;
                const double *D0 = Dq, *D1 = Dq + N;
                for (int i = 0; i < N; i++) { y0 += D0[i] * rn[i]; y1 += D1[i] * rn[i]; }
                delta0 = ct - y0;
                delta1 = st - y1;
                alpha = -(delta0 * delta0 + delta1 * delta1);
            } else {
                double y = 0.0;
                for (int i = 0; i < N; i++) y += Dq[i] * rn[i];
                double psi = 1.0 / (1.0 + exp(-100.0 * y));
                psi = psi < 1e-4 ? 1e-4 : psi;
                psi = psi > 1.0 - 1e-4 ? 1.0 - 1e-4 : psi;
                const double c = th >= 0.0 ? 1.0 : 0.0;
                alpha = c * log(psi) + (1.0 - c) * log(1.0 - psi);
                delta0 = 100.0 * (c - psi);
            }
            block_sum += alpha;

            /* 5 + 6. averages, then updates with the new averages; the W
             * pass also accumulates (new W) r for the next step */
            const double aW = g_W * alpha, aC = g_C * alpha, ab = g_b * alpha;
            for (int i = 0; i < N; i++) {
                const double ri = rn[i];

                double rb = rbq[i] + k_bar * (ri - rbq[i]);
                rbq[i] = rb;
                bq[i] = decay_b * bq[i] + ab * (ri - rb);

                double *restrict Ci = Cq + (long)i * NS;
                double *restrict rsi = rsq + (long)i * NS;
                for (int k = 0; k < NS; k++) {
                    const double p = ri * s[k];
                    const double avg = rsi[k] + k_bar * (p - rsi[k]);
                    rsi[k] = avg;
                    Ci[k] = decay_C * Ci[k] + aC * (p - avg);
                }

                double *restrict Wi = Wq + (long)i * N;
                double *restrict rri = rrq + (long)i * N;
                double acc = 0.0;
                for (int j = 0; j < N; j++) {
                    const double p = ri * rn[j];
                    const double avg = rri[j] + k_bar * (p - rri[j]);
                    rri[j] = avg;
                    const double w = decay_W * Wi[j] + aW * (p - avg);
                    Wi[j] = w;
                    acc += w * rn[j];
                }
                Wrq[i] = acc;

                Dq[i] = decay_D * Dq[i] + g_D * delta0 * ri;
                if (n_out == 2) Dq[N + i] = decay_D * Dq[N + i] + g_D * delta1 * ri;
            }
        }

        if ((n + 1) % block == 0 || n + 1 == steps) {
            if (reward_sum_out) reward_sum_out[n / block] = block_sum;
            block_sum = 0.0;
        }
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (seconds_out)
        *seconds_out = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);

    free(zbuf); free(Wr); free(rn); free(s);
    return 0;
}
