"""A Llama-architecture decoder written out in plain PyTorch, computing exactly what transformers'
LlamaForCausalLM computes (RMSNorm, rotate_half rotary, grouped-query causal attention, SwiGLU MLP, tied
lm_head), with Hugging Face parameter names, so that a checkpoint saved from it is converted by `prolong convert`
like any Llama checkpoint. No transformers import: it runs on the GPU machine's torch 2.x and on Debian's torch 1.13.
"""
from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 128256
    hidden_size: int = 256
    intermediate_size: int = 768
    num_hidden_layers: int = 7
    num_attention_heads: int = 8
    num_key_value_heads: int = 4
    rope_theta: float = 10000.0
    max_position_embeddings: int = 2048
    rms_norm_eps: float = 1e-5
    bos_token_id: int = 128000
    eos_token_id: tuple = (128001, 128009)

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def hf_config(self) -> dict:
        """config.json as transformers writes it for LlamaForCausalLM."""
        return {
            "architectures": ["LlamaForCausalLM"], "model_type": "llama",
            "vocab_size": self.vocab_size, "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size, "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads, "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim, "hidden_act": "silu", "rope_theta": self.rope_theta, "rope_scaling": None,
            "max_position_embeddings": self.max_position_embeddings, "rms_norm_eps": self.rms_norm_eps,
            "tie_word_embeddings": True, "attention_bias": False, "mlp_bias": False,
            "bos_token_id": self.bos_token_id, "eos_token_id": list(self.eos_token_id), "torch_dtype": "float32",
        }


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rotary_tables(config: Config, length: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin [length, head_dim] in transformers' layout (the half-frequencies repeated)."""
    d = config.head_dim
    inv_freq = 1.0 / (config.rope_theta ** (torch.arange(0, d, 2, dtype=torch.int64, device=device).float() / d))
    positions = torch.arange(length, device=device, dtype=torch.float32)
    freqs = torch.outer(positions, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


USE_SDPA = True  # the trainer's --manual-attention turns it off, to tell a fused-kernel problem from a model one


def attention(q, k, v):
    """Causal attention over [batch, heads, seq, dim]; k/v already repeated to the query heads."""
    if USE_SDPA and hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    n = q.shape[-2]
    mask = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1)
    scores = scores.masked_fill(mask, float("-inf"))
    return torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v


class Attention(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.c = c
        d = c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, c.num_attention_heads * d, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * d, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * d, bias=False)
        self.o_proj = nn.Linear(c.num_attention_heads * d, c.hidden_size, bias=False)

    def forward(self, x, cos, sin):
        b, n, _ = x.shape
        c, d = self.c, self.c.head_dim
        q = self.q_proj(x).view(b, n, c.num_attention_heads, d).transpose(1, 2)
        k = self.k_proj(x).view(b, n, c.num_key_value_heads, d).transpose(1, 2)
        v = self.v_proj(x).view(b, n, c.num_key_value_heads, d).transpose(1, 2)
        cos, sin = cos[:n].to(q.dtype), sin[:n].to(q.dtype)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        groups = c.num_attention_heads // c.num_key_value_heads
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
        out = attention(q, k, v).transpose(1, 2).reshape(b, n, c.num_attention_heads * d)
        return self.o_proj(out)


class MLP(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = MLP(c)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


def fake_int4(weight: torch.Tensor, block: int) -> torch.Tensor:
    """`weight` [N, K] as the converter's int4 gives it back (kernels/int4.ts: per row, blocks of `block` values, the
    range widened to include 0, 15 steps, the scale rounded to float32 as a float32 graph stores it, the zero point
    and codes rounded half up as JavaScript's Math.round, all in float64 as JavaScript computes), with the gradient
    passed straight through to the float weight: training then sees the rounding the shipped model has. (An fp16
    graph's scales are rounded to float16: not modelled; the demo model's graph is float32.)
    """
    n, k = weight.shape
    w = F.pad(weight.detach().double(), (0, (-k) % block)).view(n, -1, block)
    low = w.min(-1, keepdim=True).values.clamp(max=0)
    high = w.max(-1, keepdim=True).values.clamp(min=0)
    scale = ((high - low) / 15).float().double()
    zero = scale == 0
    safe = torch.where(zero, torch.ones_like(scale), scale)
    zero_point = torch.where(zero, torch.full_like(scale, 8), torch.floor(-low / safe + 0.5).clamp(0, 15))
    code = (torch.floor(w / safe + 0.5) + zero_point).clamp(0, 15)
    dequantized = ((code - zero_point) * scale).view(n, -1)[:, :k].to(weight.dtype)
    return weight + (dequantized - weight).detach()


class Backbone(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList(Layer(c) for _ in range(c.num_hidden_layers))
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)


class LlamaModel(nn.Module):
    """Parameter names match transformers (model.embed_tokens.weight, model.layers.N...., model.norm.weight)."""

    def __init__(self, c: Config):
        super().__init__()
        self.config = c
        self.model = Backbone(c)
        self.apply(self._init)
        self._rope_cache: tuple | None = None
        # int4 block size the embedding (and the tied lm_head) is fake-quantized at, as the shipped model's is
        # (train.py --qat-embedding); None: float
        self.embedding_int4_block: int | None = None

    @staticmethod
    def _init(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def rope(self, n: int, device):
        key = (n, self.config.rope_theta, str(device))
        if self._rope_cache is None or self._rope_cache[0] != key:
            self._rope_cache = (key, rotary_tables(self.config, n, device))
        return self._rope_cache[1]

    def hidden_states(self, ids):
        """Final-norm hidden states [batch, seq, hidden]; logits are `logits(hidden)` (tied lm_head)."""
        cos, sin = self.rope(ids.shape[1], ids.device)
        x = F.embedding(ids, self.embedding_weight())
        for layer in self.model.layers:
            x = layer(x, cos, sin)
        return self.model.norm(x)

    def embedding_weight(self) -> torch.Tensor:
        weight = self.model.embed_tokens.weight
        return weight if self.embedding_int4_block is None else fake_int4(weight, self.embedding_int4_block)

    def logits(self, hidden):
        return hidden @ self.embedding_weight().to(hidden.dtype).t()


def save_hf_checkpoint(model: LlamaModel, out_dir: str, generation: dict | None = None) -> None:
    """Writes config.json, generation_config.json and model.safetensors (float32) the way transformers does."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(model.config.hf_config(), f, indent=2)
    gen = {"bos_token_id": model.config.bos_token_id, "eos_token_id": list(model.config.eos_token_id), "do_sample": False}
    gen.update(generation or {})
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2)
    tensors = {name: p.detach().float().cpu().contiguous() for name, p in model.state_dict().items()}
    write_safetensors(tensors, os.path.join(out_dir, "model.safetensors"))


def write_safetensors(tensors: dict, path: str) -> None:
    """The safetensors format: 8-byte little-endian header size, a JSON header, then the raw little-endian bytes."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        t = tensors[name]
        data = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = {"format": "pt"}
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def config_dict(c: Config) -> dict:
    return asdict(c)
