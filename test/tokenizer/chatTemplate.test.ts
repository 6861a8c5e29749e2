import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatTemplate } from '../../engine/tokenizer/chatTemplate';
import { loadTokenizer } from '../../engine/tokenizer/index';
import { tempDir } from '../tempDirs';
import { UserError } from '../../engine/errors';

test('bundled Llama 3 template renders like transformers apply_chat_template', () => {
  const template = ChatTemplate.forTokenizer();
  const text = template.render([
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content: '  Hi there \n' },
    { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: 'Count <|eot_id|> as text?' },
  ]);
  assert.equal(text,
    '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>'
    + '<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>'
    + '<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>'
    + '<|start_header_id|>user<|end_header_id|>\n\nCount <|eot_id|> as text?<|eot_id|>'
    + '<|start_header_id|>assistant<|end_header_id|>\n\n');
  assert.deepEqual(template.specialTokens, { bos_token: '<|begin_of_text|>', eos_token: '<|end_of_text|>' });
});

test('stop ids: the config eos plus <|eot_id|>', () => {
  const tokenizer = loadTokenizer();
  assert.deepEqual(ChatTemplate.forTokenizer().stopTokenIds(tokenizer), [128001, 128009]);
});

test('rendered prompt encodes its control tokens as single ids', () => {
  const tokenizer = loadTokenizer();
  const ids = tokenizer.encodeWithSpecialTokens(ChatTemplate.forTokenizer().render([{ role: 'user', content: 'Hi' }]));
  assert.deepEqual(ids, [128000, 128006, 882, 128007, 271, 13347, 128009, 128006, 78191, 128007, 271]);
});

function configDir(config: Record<string, unknown>, jinja?: string): string {
  const dir = tempDir('prolong-chat-');
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  if (jinja !== undefined) writeFileSync(join(dir, 'chat_template.jinja'), jinja);
  return dir;
}

// A Llama 3.1-style template: it honours add_generation_prompt, and the config writes bos as an AddedToken object.
const llama31Style = "{{- bos_token }}\n{%- for message in messages %}\n    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n{%- endif %}\n{%- if tools is not none %}TOOLS{% endif %}";

test('add_generation_prompt, AddedToken-object special tokens, eos <|eot_id|>', () => {
  const dir = configDir({
    chat_template: llama31Style,
    bos_token: { __type: 'AddedToken', content: '<|begin_of_text|>', lstrip: false },
    eos_token: '<|eot_id|>',
    pad_token: null,
  });
  const template = ChatTemplate.fromConfigFile(join(dir, 'tokenizer_config.json'));
  const messages = [{ role: 'user' as const, content: 'Q' }];
  assert.equal(template.render(messages, { addGenerationPrompt: false }),
    '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|>');
  assert.equal(template.render(messages),
    '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n');
  assert.deepEqual(template.stopTokenIds(loadTokenizer()), [128009]);
});

test('named template list picks "default"; chat_template.jinja is used when the config has none', () => {
  const listed = configDir({ chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: '{{ messages[0].content }}!' }] });
  assert.equal(ChatTemplate.fromConfigFile(join(listed, 'tokenizer_config.json')).render([{ role: 'user', content: 'x' }]), 'x!');
  const separate = configDir({ eos_token: '</s>' }, '{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{{ eos_token }}');
  const template = ChatTemplate.fromConfigFile(join(separate, 'tokenizer_config.json'));
  assert.equal(template.render([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }]), '[user]a[assistant]b</s>');
  assert.equal(template.source, join(separate, 'chat_template.jinja'));
});

test('missing template, unreadable config and template errors are UserErrors naming the file', () => {
  const none = configDir({ eos_token: '</s>' });
  const path = join(none, 'tokenizer_config.json');
  assert.throws(() => ChatTemplate.fromConfigFile(path), (error) => error instanceof UserError && error.message.includes(path));
  assert.throws(() => ChatTemplate.fromConfigFile(join(none, 'missing.json')), (error) => error instanceof UserError && error.message.includes('missing.json'));
  const failing = configDir({ chat_template: "{{ raise_exception('roles must alternate') }}" });
  const template = ChatTemplate.fromConfigFile(join(failing, 'tokenizer_config.json'));
  assert.throws(() => template.render([{ role: 'user', content: 'x' }]),
    (error) => error instanceof UserError && error.message.includes('roles must alternate') && error.message.includes(failing));
});
