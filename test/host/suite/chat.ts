/**
 * The Chat view, language-model tools and MCP in the real host. code-server 4.x (VS Code 1.105) has the chat,
 * tool and MCP APIs but no language model, so a chat request cannot reach @prolong from the Chat view here: the
 * tools are invoked through vscode.lm.invokeTool, and what the host lacks is printed as a skip with its reason.
 */
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import { api, hostTest, log } from './hostTest';

hostTest('chat: the participant, tools and MCP provider are registered exactly where the host has their API', async () => {
  const prolong = await api();
  const offered = {
    participant: typeof vscode.chat?.createChatParticipant === 'function',
    tools: typeof vscode.lm?.registerTool === 'function',
    mcp: typeof vscode.lm?.registerMcpServerDefinitionProvider === 'function',
  };
  log(`host ${vscode.version} (${vscode.env.appName}) offers: chat participants ${offered.participant}, language-model tools ${offered.tools}, MCP server definitions ${offered.mcp}`);
  assert.deepEqual(prolong.chat, offered);
  const models = typeof vscode.lm?.selectChatModels === 'function' ? await vscode.lm.selectChatModels() : [];
  if (models.length === 0) log(`skip - @prolong in the Chat view: ${vscode.env.appName} ${vscode.version} has no chat language model, so the Chat view cannot send a request to a participant; its handler is covered by test/chat`);
  // the panel works either way: its commands are there
  const commands = await vscode.commands.getCommands(true);
  assert.ok(commands.includes('prolong.askAboutWorkspace'));
});

hostTest('chat: prolong_pack and prolong_probe_summary are listed with their schemas and answer when invoked', async () => {
  const prolong = await api();
  if (!prolong.chat.tools) { log(`skip - language-model tools: vscode.lm.registerTool is missing in ${vscode.env.appName} ${vscode.version}`); return; }
  const tools = vscode.lm.tools.filter((tool) => tool.name.startsWith('prolong_'));
  assert.deepEqual(tools.map((tool) => tool.name).sort(), ['prolong_pack', 'prolong_probe_summary']);
  const packSchema = tools.find((tool) => tool.name === 'prolong_pack')!.inputSchema as { properties: Record<string, unknown> };
  assert.deepEqual(Object.keys(packSchema.properties).sort(), ['budget', 'order', 'reportOnly']);

  const source = new vscode.CancellationTokenSource();
  const text = (result: vscode.LanguageModelToolResult) => result.content.map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : '')).join('\n');
  const full = await vscode.lm.invokeTool('prolong_pack', { input: {}, toolInvocationToken: undefined }, source.token);
  assert.match(text(full), /==> src\/main\.ts <==\n/);
  assert.match(text(full), /# ProLong pack: /);
  const report = await vscode.lm.invokeTool('prolong_pack', { input: { reportOnly: true }, toolInvocationToken: undefined }, source.token);
  assert.doesNotMatch(text(report), /==> src\/main\.ts <==/);
  assert.match(text(report), /src\/main\.ts/);

  const summary = await vscode.lm.invokeTool('prolong_probe_summary', { input: {}, toolInvocationToken: undefined }, source.token);
  assert.match(text(summary), /No probe results yet|effective length|below/);
  source.dispose();
});
