/**
 * Word lists for the probes. RULER draws keys as "adjective-noun" pairs and common words from the Python
 * `wonderwords` lists; we keep our own short lists here (common English words, written for this project) and
 * take the long list for large word counts from the `an-array-of-english-words` package (MIT).
 */
import { readFileSync } from 'node:fs';

const ADJECTIVES = `able absent acidic active agile airy alert amber ancient angry anxious arctic ashen awake
bald bare basic bitter bland blue bold bouncy brave breezy brief bright brisk broad bronze brown bumpy busy
calm candid careful casual cheap cheerful chilly civic clean clear clever cloudy coastal cold cosmic crisp
crooked cruel curious curly cute damp dark dear deep dense dim distant dizzy dry dull dusty eager early
earthy easy elastic elder empty endless equal even exact faint fair false famous fancy fast fat fertile
fierce fine firm flat fluffy fond fragile frank free fresh frosty frozen full funny fuzzy gentle giant
gifted glad gleaming global glossy golden good grand gray great green grim gritty grumpy guilty hairy handy
happy hard harsh hasty healthy heavy hidden high hollow honest huge humble hungry icy idle immense inner
jolly juicy keen kind large last late lazy lean light little lively lone long loose loud lovely low loyal
lucky lush magic major mellow merry mighty mild minor misty modern modest moist muddy mute narrow naval
neat nervous new nice nimble noble noisy normal odd oily old open orange outer pale patient plain pleasant
plump polite poor powerful precious pretty proud purple quick quiet rapid rare raw ready real red regular
rich rigid ripe rocky rough round royal rude rural rusty sad safe salty sandy scarce secret shaggy sharp
shiny short shy silent silky silver simple slim slow small smart smooth soft solar solid sour spare spicy
steady steep sticky stiff stormy strange strict strong sturdy subtle sunny super sweet swift tall tame
tender thick thin thirsty tidy tiny tough tranquil tropical true ugly upbeat urban useful vague vast
violet vivid warm wary weak wealthy weary wet white whole wide wild windy wise witty wooden worthy young
zany zealous`;

const NOUNS = `acorn actor airport alarm album anchor angle ankle answer apple apron arch arena army arrow
artist attic avenue badge bakery balcony ball banana band bank barn barrel basket battery beach beard bell
belt bench berry bicycle bird blanket block boat bone book boot bottle boulder bowl box bracket branch bread
breeze brick bridge brook broom bucket buffalo bulb bundle cabin cable cactus cake camel camera canal candle
canyon captain carpet carrot castle cat cave ceiling cellar chain chair chalk channel chapel cherry chest
chimney circle citizen city cliff clock cloud clover coast coat coconut coin comet compass cookie copper
corner cottage cotton country crane crayon creek crown crystal cup curtain cushion dancer desert desk diamond
dinner doctor dolphin donkey door dragon drawer dream drum eagle earth editor elbow engine envelope falcon
farm feather fence ferry field finger flag flame flower flute fog forest fountain fox frame garden garlic
gate ghost giraffe glacier glass glove goat grape grass guitar hammer harbor harvest hat hawk helmet hill
honey horizon horse hotel house island ivory jacket jar jewel jungle kettle key kitchen kite ladder lake
lamp lantern leaf lemon letter library lighthouse lion lizard lobster magnet mango map marble market meadow
melody mirror monkey moon mountain mule museum needle nest noodle notebook novel oak ocean office olive
onion orchard otter owl oyster paddle painter palace panther paper parrot path peach pearl pebble pencil
pepper piano pigeon pillow pilot planet plate pocket poet pond potato pumpkin puzzle quarry rabbit radio
rainbow raven ribbon river robot rocket roof rose saddle sailor salmon sand saucer scarf school scooter
shadow shelf shell ship shoe shovel singer skate sketch sky sled snail soldier spider sponge spoon squirrel
stable stadium star statue stone storm stove stream street sugar summit sunset swan sweater table tailor
teapot temple tent thunder ticket tiger timber toast tomato tower tractor train tree trumpet tulip tunnel
turtle umbrella valley vase velvet village violin volcano wagon wall walnut wand watch waterfall whale
wheel whistle willow window wizard wolf yacht zebra`;

function splitWords(text: string): string[] {
  return [...new Set(text.split(/\s+/).filter((word) => word.length > 0))].sort();
}

export const adjectives: readonly string[] = splitWords(ADJECTIVES);
export const nouns: readonly string[] = splitWords(NOUNS);

let adjectiveNounPairs: string[] | undefined;
/** RULER's key words: every "adjective-noun" pair. */
export function keyWords(): readonly string[] {
  adjectiveNounPairs ??= adjectives.flatMap((adjective) => nouns.map((noun) => `${adjective}-${noun}`));
  return adjectiveNounPairs;
}

/** Our short list of common words (adjectives and nouns), for word tasks that need few distinct words. */
export function commonWords(): readonly string[] {
  return [...adjectives, ...nouns];
}

let englishWords: string[] | undefined;
/**
 * About 150,000 plain lower-case English words of 4-9 letters from `an-array-of-english-words` (MIT), for
 * word lists longer than our own (RULER switches to a large English word list at the same point).
 */
export function manyEnglishWords(): readonly string[] {
  if (!englishWords) {
    const all = JSON.parse(readFileSync(require.resolve('an-array-of-english-words/index.json'), 'utf8')) as string[];
    englishWords = all.filter((word) => /^[a-z]{4,9}$/.test(word));
  }
  return englishWords;
}
