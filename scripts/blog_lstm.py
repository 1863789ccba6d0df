"""Our numpy port of the blog's LSTM program (技術をかじる猫, "LSTM 作ってみた", 2021), parameterised and timed.

The blog's algorithm and loop, in numpy as the blog wrote it (the four gates as one (4, I, H) weight
stack, one batched matmul per step): a noisy sine over [-2pi, 2pi], windows of `window` values predict
the next one; one LSTM layer and an identity dense output; per minibatch the forward pass, backpropagation
through time and plain SGD on gradients summed over the minibatch; each epoch a fresh shuffle, floor(N / B)
minibatches, then the error 0.5 * sum((y - t)^2) over all N samples. The plots, and the free-running
forecast drawn for them, are left out. The clock covers the epochs loop (training and per-epoch errors).

scripts/bench-cpu.ts runs it as the CPU backend's comparison:
  python3 scripts/blog_lstm.py [--n_mid 30] [--batch 8] [--epochs 101] [--n_points 50] [--window 10]
                               [--eta 0.01] [--seed 0]
and reads the one JSON line it prints: ms_per_epoch, steps_per_s, first_error, final_error, the settings.

Legend: N = samples, B = batch, T = window, H = n_mid (hidden units); one input and one output.
"""
import argparse
import json
import time

import numpy as np


def sigmoid(u):
    return 1 / (1 + np.exp(-u))


def noisy_sine_windows(n_points, window, rng):
    """x (N, T, 1): each window of the noisy sine; t (N, 1): the value after it."""
    series = np.sin(np.linspace(-2 * np.pi, 2 * np.pi, n_points)) + 0.1 * rng.standard_normal(n_points)
    n = n_points - window
    x = np.stack([series[s:s + window] for s in range(n)])[:, :, None]
    t = series[window:window + n, None]
    return x, t


def init_params(n_mid, rng, n_in=1):
    """Xavier-scaled weights, zero biases, as the blog: w (4, 1, H), v (4, H, H), b (4, H), wd (H, 1), bd (1)."""
    return {
        'w': rng.standard_normal((4, n_in, n_mid)) / np.sqrt(n_in),
        'v': rng.standard_normal((4, n_mid, n_mid)) / np.sqrt(n_mid),
        'b': np.zeros((4, n_mid)),
        'wd': rng.standard_normal((n_mid, 1)) / np.sqrt(n_mid),
        'bd': np.zeros(1),
    }


def lstm_step(p, x, y_prev, c_prev):
    """One step for the batch: x (B, 1), y_prev and c_prev (B, H). Returns the gates (4, B, H), c, y."""
    u = np.matmul(x, p['w']) + np.matmul(y_prev, p['v']) + p['b'][:, None, :]  # (4, B, H)
    gates = np.stack((sigmoid(u[0]), sigmoid(u[1]), np.tanh(u[2]), sigmoid(u[3])))  # forget, input, candidate, output
    c = gates[0] * c_prev + gates[1] * gates[2]
    return gates, c, gates[3] * np.tanh(c)


def forward(p, x):
    """x (B, T, 1). Returns the outputs (B, 1) and, per step, y and c (B, T+1, H; step 0 zero) and gates (T, 4, B, H)."""
    batch, window, _ = x.shape
    n_mid = p['v'].shape[1]
    ys = np.zeros((batch, window + 1, n_mid))
    cs = np.zeros((batch, window + 1, n_mid))
    gates = np.zeros((window, 4, batch, n_mid))
    for s in range(window):
        gates[s], cs[:, s + 1], ys[:, s + 1] = lstm_step(p, x[:, s], ys[:, s], cs[:, s])
    return ys[:, window] @ p['wd'] + p['bd'], ys, cs, gates


def gradients(p, x, t):
    """Backpropagation through time; gradients summed over the minibatch (the blog's convention)."""
    out, ys, cs, gates = forward(p, x)
    window = x.shape[1]
    d_out = out - t  # (B, 1)
    g = {'wd': ys[:, window].T @ d_out, 'bd': d_out.sum(axis=0)}
    g['w'] = np.zeros_like(p['w'])
    g['v'] = np.zeros_like(p['v'])
    g['b'] = np.zeros_like(p['b'])
    dy = d_out @ p['wd'].T  # (B, H) into y of the last step
    dc = np.zeros_like(dy)
    for s in reversed(range(window)):
        f, i, cand, o = gates[s]
        tanh_c = np.tanh(cs[:, s + 1])
        dc = dc + dy * o * (1 - tanh_c ** 2)
        du = np.stack((dc * cs[:, s] * f * (1 - f), dc * cand * i * (1 - i), dc * i * (1 - cand ** 2),
                       dy * tanh_c * o * (1 - o)))  # (4, B, H)
        g['w'] += np.matmul(x[:, s].T, du)
        g['v'] += np.matmul(ys[:, s].T, du)
        g['b'] += du.sum(axis=1)
        # The blog also takes the gradient at the input, unused with one layer; kept so the work is the blog's.
        np.matmul(du, p['w'].transpose(0, 2, 1)).sum(axis=0)
        dy = np.matmul(du, p['v'].transpose(0, 2, 1)).sum(axis=0)
        dc = dc * f
    return g


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n_mid', type=int, default=30, help='hidden units H')
    ap.add_argument('--batch', type=int, default=8, help='minibatch size B')
    ap.add_argument('--epochs', type=int, default=101)
    ap.add_argument('--n_points', type=int, default=50, help='points of the sine; N = n_points - window samples')
    ap.add_argument('--window', type=int, default=10, help='window T (the blog\'s n_time)')
    ap.add_argument('--eta', type=float, default=0.01, help='learning rate')
    ap.add_argument('--seed', type=int, default=0, help='numpy Generator seed (noise, weights, shuffles)')
    a = ap.parse_args()
    for name in ('n_mid', 'batch', 'epochs', 'window'):
        if getattr(a, name) < 1:
            ap.error(f'--{name}: expected a whole number of at least 1, got {getattr(a, name)}')
    if a.n_points - a.window < a.batch:
        ap.error(f'--batch: expected at most n_points - window = {a.n_points - a.window} samples, got {a.batch} '
                 '(raise --n_points)')

    rng = np.random.default_rng(a.seed)
    x, t = noisy_sine_windows(a.n_points, a.window, rng)
    p = init_params(a.n_mid, rng)
    n_steps = len(x) // a.batch
    errors = []
    start = time.perf_counter()
    for _ in range(a.epochs):
        order = rng.permutation(len(x))
        for j in range(n_steps):
            mb = order[j * a.batch:(j + 1) * a.batch]
            for name, grad in gradients(p, x[mb], t[mb]).items():
                p[name] -= a.eta * grad
        errors.append(0.5 * float(np.sum((forward(p, x)[0] - t) ** 2)))
    seconds = time.perf_counter() - start
    print(json.dumps({'ms_per_epoch': 1000 * seconds / a.epochs, 'steps_per_s': a.epochs * n_steps / seconds,
                      'first_error': errors[0], 'final_error': errors[-1], 'n_mid': a.n_mid, 'batch': a.batch,
                      'window': a.window, 'n_points': a.n_points, 'epochs': a.epochs, 'seed': a.seed}))


if __name__ == '__main__':
    main()
