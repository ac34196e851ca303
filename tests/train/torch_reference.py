#!/usr/bin/python3
"""Reference for tests/train/torch_step_test.cpp: one training step of a tiny llama model in
PyTorch, float64, written independently of minima's C++ (the formulas of the architecture, not
its code).

  torch_reference.py IN.json OUT.json

IN holds the model shape, every parameter (GGUF names, row-major [rows][row length]), the tokens and
targets ([batch][seq], target -1 = not scored) and the AdamW settings. OUT gets the mean loss over
scored positions, the gradient of every parameter, and every parameter after one AdamW step
(torch.optim.AdamW: decoupled decay on the matrices only, gradient clipping by global norm).
"""
import json
import math
import sys

import torch

torch.set_default_dtype(torch.float64)


def rmsnorm(x, g, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * g


def rope(x, base):
    # x: [b, t, heads, hd]; adjacent pairs (2i, 2i+1) turn by pos * base^(-2i/hd).
    b, t, nh, hd = x.shape
    pos = torch.arange(t, dtype=torch.float64)
    inv = base ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    ang = pos[:, None] * inv[None, :]  # [t, hd/2]
    c, s = torch.cos(ang)[None, :, None, :], torch.sin(ang)[None, :, None, :]
    xr = x.reshape(b, t, nh, hd // 2, 2)
    a, bb = xr[..., 0], xr[..., 1]
    return torch.stack((a * c - bb * s, a * s + bb * c), dim=-1).reshape(b, t, nh, hd)


def forward(p, cfg, tokens, targets):
    d, nl, nh, nkv = cfg["n_embd"], cfg["n_layer"], cfg["n_head"], cfg["n_head_kv"]
    hd = d // nh
    eps, base = cfg["rms_eps"], cfg["rope_base"]
    b, t = tokens.shape
    x = p["token_embd.weight"][tokens]  # [b, t, d]
    mask = torch.ones(t, t, dtype=torch.bool).tril()
    for i in range(nl):
        pre = f"blk.{i}."
        h = rmsnorm(x, p[pre + "attn_norm.weight"], eps)
        q = (h @ p[pre + "attn_q.weight"].T).reshape(b, t, nh, hd)
        k = (h @ p[pre + "attn_k.weight"].T).reshape(b, t, nkv, hd)
        v = (h @ p[pre + "attn_v.weight"].T).reshape(b, t, nkv, hd)
        q, k = rope(q, base), rope(k, base)
        rep = nh // nkv
        k = k.repeat_interleave(rep, dim=2)
        v = v.repeat_interleave(rep, dim=2)
        s = torch.einsum("bihe,bjhe->bhij", q, k) / math.sqrt(hd)
        s = s.masked_fill(~mask, float("-inf"))
        a = torch.einsum("bhij,bjhe->bihe", torch.softmax(s, dim=-1), v).reshape(b, t, nh * hd)
        x = x + a @ p[pre + "attn_output.weight"].T
        h = rmsnorm(x, p[pre + "ffn_norm.weight"], eps)
        g = h @ p[pre + "ffn_gate.weight"].T
        u = h @ p[pre + "ffn_up.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ p[pre + "ffn_down.weight"].T
    h = rmsnorm(x, p["output_norm.weight"], eps)
    out = p["output.weight"] if "output.weight" in p else p["token_embd.weight"]
    logits = h @ out.T
    return torch.nn.functional.cross_entropy(logits.reshape(b * t, -1), targets.reshape(-1),
                                             ignore_index=-1)


def main():
    cfg = json.load(open(sys.argv[1]))
    names = list(cfg["params"].keys())
    p = {n: torch.tensor(cfg["params"][n]["data"]).reshape(cfg["params"][n]["rows"], -1).squeeze(0)
         if cfg["params"][n]["rows"] == 1 else
         torch.tensor(cfg["params"][n]["data"]).reshape(cfg["params"][n]["rows"], -1)
         for n in names}
    for t in p.values():
        t.requires_grad_(True)
    tokens = torch.tensor(cfg["tokens"])
    targets = torch.tensor(cfg["targets"])
    loss = forward(p, cfg, tokens, targets)
    loss.backward()
    grads = {n: p[n].grad.reshape(-1).tolist() for n in names}
    o = cfg["adamw"]
    decay = [p[n] for n in names if cfg["params"][n]["decay"]]
    no_decay = [p[n] for n in names if not cfg["params"][n]["decay"]]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": o["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
    norm = torch.nn.utils.clip_grad_norm_(list(p.values()), o["grad_clip"])
    opt.step()
    json.dump({"loss": loss.item(), "grad_norm": float(norm), "grads": grads,
               "updated": {n: p[n].detach().reshape(-1).tolist() for n in names}},
              open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
