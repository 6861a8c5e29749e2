// What the definitions index (and the repository QA probes) take as a file's definitions, language by language: real
// definition lines from curl, spring-petclinic, okio, MediatR, swift-argument-parser and sinatra, and the lines that
// look like them but define nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definedNames, fileIndexLines } from '../../engine/packer/definitions';
import { uniqueDefinitions } from '../../engine/probes/tasks/repoQa';

/** The names each line defines on its own, for a file at `path`. */
function namesByLine(path: string, lines: string[]): string[][] {
  return lines.map((line) => definedNames(line, path));
}

test('C and C++: functions at column 0 with the return type on the line or above it, types with a body, typedefs; not declarations, uses or macros', () => {
  assert.deepEqual(namesByLine('lib/easy.c', [
    'static CURLcode easy_perform(struct Curl_easy *data, bool events)',
    'curl_easy_perform(CURL *data)',
    'const struct curl_easyoption *curl_easy_option_by_id(CURLoption id)',
    'struct cf_setup_ctx {',
    'typedef struct Curl_easy Curl_easy;',
    '} statusline;',
    'typedef int (*curl_progress_callback)(void *clientp, double dltotal);',
    'struct stat st;',
    'CURL_EXTERN CURLcode curl_easy_perform(CURL *curl);',
    '  result = easy_perform(data, FALSE);',
    'UNITTEST_START(unit1300)',
    '__attribute__((format(printf, 2, 3)))',
    'if(!data)',
  ]), [['easy_perform'], ['curl_easy_perform'], ['curl_easy_option_by_id'], ['cf_setup_ctx'], ['Curl_easy'], ['statusline'], ['curl_progress_callback'],
    [], [], [], [], [], []]);
  assert.deepEqual(namesByLine('src/widget.cpp', ['Widget::resize(int width, int height)', 'class Widget final : public Base {', 'enum class Color {', 'Widget::~Widget()']),
    [['resize'], ['Widget'], ['Color'], ['~Widget']]);
});

test('C: a prototype split over lines, as a header writes it, declares; the source file\'s definition defines', () => {
  const header = 'CURL_EXTERN CURLcode curl_easy_setopt(CURL *curl,\n                                   CURLoption option, ...);\nstruct Curl_easy {\n  int x;\n};\n';
  assert.deepEqual(definedNames(header, 'include/curl/easy.h'), ['Curl_easy']);
  const source = 'CURLcode curl_easy_setopt(CURL *curl,\n                          CURLoption tag, ...)\n{\n  return CURLE_OK;\n}\nstatic int\nhelper(int a)\n{\n}\n';
  assert.deepEqual(definedNames(source, 'lib/setopt.c'), ['curl_easy_setopt', 'helper']);
  assert.deepEqual([...uniqueDefinitions([{ path: 'include/curl/easy.h', text: header }, { path: 'lib/setopt.c', text: source }])],
    [['include/curl/easy.h', ['Curl_easy']], ['lib/setopt.c', ['curl_easy_setopt', 'helper']]]);
});

test('a line of stars, a C comment box\'s edge, is read in linear time and defines nothing', { timeout: 20_000 }, () => {
  // the function pattern once backtracked exponentially on it: 30 stars took seconds, 40 would take hours
  for (const line of ['*'.repeat(10_000), `static ${'*'.repeat(10_000)}`, `/${'*'.repeat(10_000)}/`]) assert.deepEqual(definedNames(line, 'lib/a.c'), []);
});

test('Java, Kotlin and Scala: classes and methods after their modifiers; not calls, statements or `enum class`\'s keyword', () => {
  assert.deepEqual(namesByLine('src/main/java/Owner.java', [
    'public class Owner extends Person {',
    '\tpublic static void main(String[] args) {',
    '\tprivate List<EnumerablePropertySource<?>> findPropertiesPropertySources() {',
    'public record Point(int x, int y) {}',
    '\treturn owners.findById(id);',
    '\tOwner owner = new Owner();',
    '\tvoid shouldNotValidateWhenFirstNameEmpty() {',
    '\t@Test void shouldFindOwner() {',
    '\tOptional<Owner> findOwner(int id) {',
    '\tSystem.out.println(owner);',
    '\tOwner found = owners.findById(',
    '\tvoid close();',
    '\tpublic Map<String, List<Integer>> groupByOwner(List<Pet> pets) {',
    '\tpublic final List<String> names = new ArrayList<>();',
  ]), [['Owner'], ['main'], ['findPropertiesPropertySources'], ['Point'], [], [], ['shouldNotValidateWhenFirstNameEmpty'], ['shouldFindOwner'], ['findOwner'], [], [], [], ['groupByOwner'], []]);
  assert.deepEqual(namesByLine('okio/Buffer.kt', [
    'enum class Color {',
    'internal inline fun Buffer.commonReadFully(sink: ByteArray) {',
    '  @Test fun startsWithByteArray() {',
    'data class User(val name: String)',
    'actual class Buffer : BufferedSource, BufferedSink, Cloneable, ByteChannel {',
    '  override suspend fun run(): Unit {',
    '  companion object {',
    '  val size = buffer.size',
  ]), [['Color'], ['commonReadFully'], ['startsWithByteArray'], ['User'], ['Buffer'], ['run'], [], []]);
  assert.deepEqual(definedNames('object Registry {\n  def lookup(name: String): Option[Int] = None\n}\n', 'src/Registry.scala'), ['Registry', 'lookup']);
});

test('C#: types and methods after their modifiers; not statements', () => {
  assert.deepEqual(namesByLine('src/Mediator.cs', [
    'public sealed class Mediator : IMediator',
    '    public async Task<Pong> Handle(Ping request, CancellationToken cancellationToken)',
    'public record struct Money(decimal Amount);',
    'public interface IMediator : ISender, IPublisher',
    '    var mediator = BuildMediator(writer);',
    '    Task<Pong> SendPing(Ping ping)',
    '    [Fact] void HandlesNull()',
    '    Console.WriteLine(result);',
    '    await Task.Delay(10);',
    '    public Dictionary<string, List<int>> Group(List<string> names)',
    '    private IEnumerable<(Type ExceptionType, object Action)> GetActionsForException(Type exceptionType, TRequest request)',
  ]), [['Mediator'], ['Handle'], ['Money'], ['IMediator'], [], ['SendPing'], ['HandlesNull'], [], [], ['Group'], ['GetActionsForException']]);
});

test('Swift, Ruby and PHP', () => {
  assert.deepEqual(namesByLine('Sources/Config.swift', [
    'public struct NameSpecification: ExpressibleByArrayLiteral {',
    '  public static func message(',
    '  @Test func configHelp() throws {',
    'public protocol MDocMacroProtocol: MDocASTNode {',
    'extension NameSpecification {',
    '  let name = "x"',
    '  public class func shared() -> Self {',
    '  override class var layerClass: AnyClass {',
  ]), [['NameSpecification'], ['message'], ['configHelp'], ['MDocMacroProtocol'], [], [], ['shared'], []]);
  assert.deepEqual(namesByLine('lib/sinatra/base.rb', [
    'module Sinatra', '  class Base < Object', '    def self.call(env)', '    def server_error?', '    def self.[](key)', '  class << self', '    call(env)',
  ]), [['Sinatra'], ['Base'], ['call'], ['server_error?'], [], [], []]);
  assert.deepEqual(namesByLine('src/Router.php', ['final class Router {', '    public static function dispatch(Request $r): Response {', 'function &ref()', '    $this->dispatch($r);']),
    [['Router'], ['dispatch'], ['ref'], []]);
});

test('Go and Rust: types, constants and methods the generic patterns missed', () => {
  assert.deepEqual(namesByLine('server.go', ['func (s *Server) Serve(l net.Listener) error {', 'type Handler interface {', 'const Version = "1"', '\tgo s.Serve(l)', 'type List[T any] struct {']),
    [['Serve'], ['Handler'], ['Version'], [], ['List']]);
  assert.deepEqual(namesByLine('src/lib.rs', ['pub(crate) async fn run() {', 'pub struct Config {', 'impl Config {', 'pub const MAX: usize = 3;', 'macro_rules! vec2 {', '    run();']),
    [['run'], ['Config'], [], ['MAX'], ['vec2'], []]);
});

test('JavaScript, TypeScript, Python and files of no known language keep the patterns the demo model was trained with', () => {
  const text = 'export function pack(root) {}\nexport const DEFAULT = 1;\nclass Packer {}\ndef parse_args():\n    pass\n';
  for (const path of ['src/a.ts', 'src/a.js', 'src/a.py', 'notes.txt', undefined]) assert.deepEqual(definedNames(text, path), ['pack', 'DEFAULT', 'Packer', 'parse_args'], String(path));
});

test('the index and the repository QA probes read each file in its own language', () => {
  assert.equal(fileIndexLines('lib/easy.c', 'static CURLcode\neasy_perform(struct Curl_easy *data)\n{\n}\n'), '`easy_perform`: lib/easy.c\n');
  const files = [
    { path: 'lib/easy.c', text: 'CURLcode curl_easy_perform(CURL *data)\n{\n  return easy_perform(data);\n}\n' },
    { path: 'lib/multi.c', text: 'CURLMcode curl_multi_perform(CURLM *m, int *running)\n{\n}\n' },
  ];
  assert.deepEqual([...uniqueDefinitions(files)], [['lib/easy.c', ['curl_easy_perform']], ['lib/multi.c', ['curl_multi_perform']]]);
});
