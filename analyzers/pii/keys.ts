// Key hints: field names are split into tokens and matched token-wise against multilingual
// dictionaries (EN, NL, DE, FR, ES, IT). Never substring matching: `spinner` must not match `pin`,
// `protein` not `ein` (Akto's `.*pin.*` rules do). A dictionary entry is stored joined and lower-case
// ("zipcode"), and matches any run of up to 4 adjacent tokens whose concatenation equals it, so
// `zipCode`, `zip_code`, `ZIPCODE` and `zip-code` all match, while `zipper` does not.
//
// Evidence over a key path (Macie: a keyword anywhere in the path counts): the leaf weighs 1, its
// parent 0.5, further ancestors 0.25. Negative hints count on the leaf only, and only when the leaf
// has no positive hint for the kind (`nationalId` stays positive although it contains `id`).
import type { PiiKind } from '../../engine/contracts/inventory.js';

/** Positive hints per kind, joined lower-case, diacritics removed. */
export const POSITIVE_HINTS: Readonly<Partial<Record<PiiKind, readonly string[]>>> = {
  email: [
    'email',
    'emailaddress',
    'mail',
    'mailaddress',
    'emailadres',
    'emailadresse',
    'courriel',
    'correo',
    'correoelectronico',
    'posta',
    'postaelettronica',
    'epost',
    'mailto',
    'replyto',
  ],
  phone: [
    'phone',
    'phonenumber',
    'tel',
    'telephone',
    'telno',
    'mobile',
    'mobilephone',
    'mobilenumber',
    'cell',
    'cellphone',
    'msisdn',
    'fax',
    'telefoon',
    'telefoonnummer',
    'mobiel',
    'mobielnummer',
    'gsm',
    'telefon',
    'telefonnummer',
    'handy',
    'handynummer',
    'mobilnummer',
    'portable',
    'telefono',
    'movil',
    'celular',
    'cellulare',
    'numerotelephone',
    'whatsapp',
  ],
  person_name: [
    'firstname',
    'lastname',
    'fullname',
    'surname',
    'givenname',
    'familyname',
    'middlename',
    'maidenname',
    'cardholder',
    'cardholdername',
    'holdername',
    'accountholder',
    'voornaam',
    'achternaam',
    'roepnaam',
    'tussenvoegsel',
    'volledigenaam',
    'vorname',
    'nachname',
    'familienname',
    'prenom',
    'nomdefamille',
    'nombre',
    'apellido',
    'apellidos',
    'nombrecompleto',
    'cognome',
    'nomecompleto',
    'contactname',
    'customername',
    'recipientname',
    'patientname',
  ],
  street_address: [
    'street',
    'streetaddress',
    'streetname',
    'addressline',
    'addressline1',
    'addressline2',
    'address1',
    'address2',
    'homeaddress',
    'billingaddress',
    'shippingaddress',
    'postaladdress',
    'housenumber',
    'straat',
    'straatnaam',
    'huisnummer',
    'adres',
    'strasse',
    'hausnummer',
    'anschrift',
    'adresse',
    'rue',
    'calle',
    'direccion',
    'domicilio',
    'indirizzo',
    'via',
  ],
  postcode: [
    'postcode',
    'postalcode',
    'zip',
    'zipcode',
    'postnummer',
    'plz',
    'postleitzahl',
    'codepostal',
    'codigopostal',
    'cap',
    'postcodes',
  ],
  date_of_birth: [
    'dob',
    'dateofbirth',
    'birthdate',
    'birthday',
    'bday',
    'birth',
    'geboortedatum',
    'geboortedag',
    'geburtsdatum',
    'geburtstag',
    'datedenaissance',
    'datenaissance',
    'naissance',
    'fechadenacimiento',
    'fechanacimiento',
    'nacimiento',
    'datadinascita',
    'datanascita',
  ],
  passport: [
    'passport',
    'passportnumber',
    'passportno',
    'passno',
    'paspoort',
    'paspoortnummer',
    'reisepass',
    'reisepassnummer',
    'passnummer',
    'passeport',
    'pasaporte',
    'passaporto',
  ],
  bsn: ['bsn', 'burgerservicenummer', 'sofinummer', 'sofinr', 'bsnnummer'],
  national_id: [
    'nationalid',
    'nationalidnumber',
    'nationalidentifier',
    'identitynumber',
    'idcard',
    'idcardnumber',
    'steuerid',
    'steueridentifikationsnummer',
    'idnr',
    'steuernummer',
    'nir',
    'numerosecu',
    'securitesociale',
    'numerodesecuritesociale',
    'insee',
    'dni',
    'nie',
    'nif',
    'codicefiscale',
    'fiscalcode',
    'taxcode',
    'nino',
    'nationalinsurance',
    'nationalinsurancenumber',
    'nhs',
    'nhsnumber',
    'pesel',
    'rijksregisternummer',
    'rijksregister',
    'insz',
    'personnummer',
    'hetu',
    'henkilotunnus',
    'onderwijsnummer',
    'taxid',
    'tin',
    'personalnummer',
    'personalausweis',
    'ausweisnummer',
    'cedula',
    'documentoidentidad',
  ],
  us_ssn: ['ssn', 'socialsecurity', 'socialsecuritynumber', 'socsec'],
  payment_card: [
    'card',
    'cardnumber',
    'cardno',
    'creditcard',
    'creditcardnumber',
    'debitcard',
    'cc',
    'ccnumber',
    'ccnum',
    'pan',
    'primaryaccountnumber',
    'kaartnummer',
    'creditcardnummer',
    'kreditkarte',
    'kreditkartennummer',
    'kartennummer',
    'carte',
    'numerocarte',
    'cartebancaire',
    'tarjeta',
    'numerotarjeta',
    'carta',
    'numerocarta',
  ],
  iban: [
    'iban',
    'ibannumber',
    'bankaccount',
    'bankaccountnumber',
    'accountnumber',
    'rekeningnummer',
    'rekening',
    'kontonummer',
    'bankverbindung',
    'rib',
    'cuenta',
    'contocorrente',
  ],
  ip_address: [
    'ip',
    'ipaddress',
    'ipaddr',
    'clientip',
    'remoteip',
    'remoteaddr',
    'remoteaddress',
    'sourceip',
    'srcip',
    'userip',
    'xforwardedfor',
    'xrealip',
    'forwardedfor',
    'ipadres',
    'ipadresse',
  ],
  geolocation: [
    'lat',
    'latitude',
    'lng',
    'lon',
    'long',
    'longitude',
    'location',
    'geo',
    'geolocation',
    'coordinates',
    'coords',
    'position',
    'gps',
    'breedtegraad',
    'lengtegraad',
    'breitengrad',
    'laengengrad',
    'standort',
  ],
  password: [
    'password',
    'passwd',
    'pwd',
    'pass',
    'passphrase',
    'passcode',
    'pin',
    'pincode',
    'userpassword',
    'newpassword',
    'oldpassword',
    'currentpassword',
    'confirmpassword',
    'wachtwoord',
    'passwort',
    'kennwort',
    'motdepasse',
    'mdp',
    'contrasena',
    'clave',
    'parola',
    'parolachiave',
  ],
  api_key: [
    'apikey',
    'apitoken',
    'apisecret',
    'accesskey',
    'accesskeyid',
    'secretkey',
    'secretaccesskey',
    'secret',
    'clientsecret',
    'appsecret',
    'token',
    'accesstoken',
    'authtoken',
    'refreshtoken',
    'bearertoken',
    'privatekey',
    'xapikey',
    'apikeyid',
    'key',
    'credential',
    'credentials',
    'authkey',
    'signingkey',
    'webhooksecret',
  ],
  session_token: [
    'session',
    'sessionid',
    'sessid',
    'sid',
    'sessiontoken',
    'jsessionid',
    'phpsessid',
    'connectsid',
    'aspnetsessionid',
    'sessionkey',
    'sessioncookie',
    'auth',
    'authorization',
  ],
};

/** Leaf tokens that are only a hint for person_name / street_address under a person-like ancestor. */
export const AMBIGUOUS_LEAF: Readonly<Partial<Record<PiiKind, readonly string[]>>> = {
  person_name: ['name', 'naam', 'nom', 'nome', 'displayname'],
  street_address: ['address', 'addr', 'line1', 'line2'],
};
/** Ancestors that make `name`/`address` personal (`$.customer.name`, not `$.product.name`). */
export const PERSON_CONTEXT: readonly string[] = [
  'user',
  'customer',
  'person',
  'contact',
  'employee',
  'patient',
  'member',
  'owner',
  'holder',
  'recipient',
  'sender',
  'billing',
  'shipping',
  'account',
  'profile',
  'client',
  'klant',
  'kunde',
  'cliente',
  'buyer',
  'payer',
  'payee',
  'applicant',
  'guest',
  'passenger',
  'traveler',
  'traveller',
  'student',
  'author',
  'driver',
  'beneficiary',
  'cardholder',
  'consumer',
  'subscriber',
  'me',
  'gebruiker',
  'benutzer',
  'utilisateur',
  'usuario',
  'utente',
];

/** Negative hints: identifiers, counters, money, versions, hashes, times. */
export const NEGATIVE_HINTS: readonly string[] = [
  'id',
  'ids',
  'uuid',
  'guid',
  'uid',
  'version',
  'ver',
  'rev',
  'revision',
  'hash',
  'checksum',
  'digest',
  'md5',
  'sha',
  'sha1',
  'sha256',
  'crc',
  'etag',
  'count',
  'counter',
  'total',
  'amount',
  'price',
  'cost',
  'qty',
  'quantity',
  'sum',
  'timestamp',
  'ts',
  'time',
  'createdat',
  'updatedat',
  'deletedat',
  'created',
  'updated',
  'modified',
  'expires',
  'orderid',
  'order',
  'ordernumber',
  'sku',
  'ean',
  'gtin',
  'upc',
  'isbn',
  'invoice',
  'invoicenumber',
  'reference',
  'ref',
  'nonce',
  'index',
  'idx',
  'offset',
  'limit',
  'page',
  'size',
  'length',
  'width',
  'height',
  'seq',
  'sequence',
  'status',
  'trace',
  'traceid',
  'span',
  'spanid',
  'requestid',
  'correlationid',
  'transactionid',
  'tracking',
  'trackingnumber',
  'build',
  'serial',
  'serialnumber',
  'duration',
  'latency',
  'score',
  'rank',
  'port',
  // public material and metadata about secrets, not secrets
  'public',
  'pub',
  'publickey',
  'pubkey',
  'name',
  'url',
  'uri',
  'file',
  'path',
  'type',
  'format',
  'policy',
  'hint',
  'strength',
  'csrf',
  'xsrf',
  'expiry',
  'expiresat',
  'expiresin',
  'vault',
  'chars',
  'str',
  'frame',
  'keyframe',
];

type Dict = Map<string, PiiKind[]>;
function buildDict(src: Readonly<Partial<Record<PiiKind, readonly string[]>>>): Dict {
  const m: Dict = new Map();
  for (const [kind, words] of Object.entries(src) as [PiiKind, readonly string[]][]) {
    for (const w of words) {
      const a = m.get(w);
      if (a) a.push(kind);
      else m.set(w, [kind]);
    }
  }
  return m;
}
const POS = buildDict(POSITIVE_HINTS);
const AMB = buildDict(AMBIGUOUS_LEAF);
const NEG: ReadonlySet<string> = new Set(NEGATIVE_HINTS);
const PERSON: ReadonlySet<string> = new Set(PERSON_CONTEXT);

/**
 * Split a field name into lower-case tokens: camelCase and PascalCase humps, acronyms (`XMLHttp` →
 * xml, http), snake_case, kebab-case, dots, spaces, letter/digit boundaries kept (`address1` stays
 * one token so `address1` matches; `line1` too). Diacritics are removed (`straße` → strasse).
 */
export function tokenizeKey(key: string): string[] {
  if (key.length > 128) key = key.slice(0, 128);
  const norm = key
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss');
  const out: string[] = [];
  for (const part of norm.split(/[^A-Za-z0-9]+/)) {
    if (part === '') continue;
    // camel humps: "cardNumber" → card|Number, "IPAddress" → IP|Address, "HTTPServer2" → HTTP|Server2
    const humps = part.match(/[A-Z]+(?![a-z])\d*|[A-Z]?[a-z]+\d*|\d+/g);
    if (humps === null) continue;
    for (const h of humps) out.push(h.toLowerCase());
  }
  return out;
}

export interface KeyEvidence {
  /** Max positive weight per kind over the path: 1 leaf, 0.5 parent, 0.25 further up; 0 when none. */
  positive: Partial<Record<PiiKind, number>>;
  /** The leaf carries a negative hint (id, amount, version...). */
  negative: boolean;
  /** Leaf tokens (for detectors that need them, e.g. the generic secret rule). */
  leafTokens: readonly string[];
  /** The leaf names an identifier (`id`, `…Id`, `…_sid`, `…Uuid`; not `sessionid`): see ids.ts. */
  idKey: boolean;
  /** The leaf itself carries an api_key, password or session_token hint (a credential key name). */
  leafCredential: boolean;
}

function matchRuns(
  tokens: readonly string[],
  dict: Dict,
  visit: (kinds: readonly PiiKind[], run: string) => void,
): void {
  for (let i = 0; i < tokens.length; i++) {
    let joined = '';
    for (let j = i; j < tokens.length && j < i + 4; j++) {
      joined += tokens[j];
      const k = dict.get(joined);
      if (k !== undefined) visit(k, joined);
    }
  }
}

function hasNegative(tokens: readonly string[]): boolean {
  for (let i = 0; i < tokens.length; i++) {
    let joined = '';
    for (let j = i; j < tokens.length && j < i + 3; j++) {
      joined += tokens[j];
      if (NEG.has(joined)) return true;
    }
  }
  return false;
}

// Keys repeat across exchanges: cache the per-key token analysis (bounded, cleared when full). Only
// identifier-like keys are cached: JSON objects used as maps can be keyed by personal values (an email,
// a BSN, a phone number), and those must not outlive the call (CONTRIBUTING rule 8); they would also
// churn the cache.
const KEY_CACHE_MAX = 4096;
const MAX_CACHED_KEY = 64;

/**
 * A field name that may be kept across calls: ≤ 64 characters, no '@', at most 3 digits, no control
 * characters.
 */
function cacheableKey(key: string): boolean {
  if (key.length > MAX_CACHED_KEY) return false;
  let digits = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 64 /* @ */ || c < 32) return false;
    if (c >= 48 && c <= 57 && ++digits > 3) return false;
  }
  return true;
}

// Identifier keys: the last token says the value *names* something (`id`, `customerId`, `account_sid`,
// `RoleSid`, `tokenId`, `credential_uuid`). A credential word before it (`token`, `credential`) makes
// it the id of a credential, not the credential: see ids.ts. Session cookies spelled as one word
// (`sessionid`, `JSESSIONID`, `PHPSESSID`, `connect.sid`) are the session credential itself and are
// not identifier keys; a bare `sid` is (Twilio's `sid`), and still a session hint for cookies,
// which are a credential location whatever their name.
const ID_TOKENS: ReadonlySet<string> = new Set(['id', 'ids', 'sid', 'sids', 'uid', 'uuid', 'guid', 'oid']);
const SESSION_ID_KEYS: ReadonlySet<string> = new Set([
  'sessionid',
  'sessid',
  'jsessionid',
  'phpsessid',
  'connectsid',
  'aspnetsessionid',
]);
// `sid` alone is the classic session cookie name; as the last token of a longer key (`account_sid`,
// `RoleSid`, `credential_sid`) it is Twilio's "string identifier" of that resource, not a session.
const WHOLE_KEY_ONLY: ReadonlySet<string> = new Set(['sid']);

interface KeyInfo {
  tokens: string[];
  pos: PiiKind[];
  amb: PiiKind[];
  neg: boolean;
  person: boolean;
  id: boolean;
}
const keyCache = new Map<string, KeyInfo>();
function keyInfo(key: string): KeyInfo {
  let info = keyCache.get(key);
  if (info !== undefined) return info;
  const tokens = tokenizeKey(key);
  const pos: PiiKind[] = [];
  const single = tokens.length === 1;
  matchRuns(tokens, POS, (k, run) => {
    if (!single && WHOLE_KEY_ONLY.has(run)) return;
    for (const x of k) if (!pos.includes(x)) pos.push(x);
  });
  const amb: PiiKind[] = [];
  matchRuns(tokens, AMB, (k) => {
    for (const x of k) if (!amb.includes(x)) amb.push(x);
  });
  let person = false;
  for (const t of tokens) if (PERSON.has(t)) person = true;
  const last = tokens[tokens.length - 1];
  const id = last !== undefined && ID_TOKENS.has(last) && !SESSION_ID_KEYS.has(tokens.join(''));
  info = { tokens, pos, amb, neg: hasNegative(tokens), person, id };
  if (!cacheableKey(key)) return info;
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(key, info);
  return info;
}

const EMPTY: readonly string[] = [];

/**
 * Evidence of one-key paths (a header, query parameter or cookie name, the segment before a path
 * value), by key: the same names recur on every request. Cacheable keys only (cacheableKey), cleared
 * when full. The objects are shared: callers only read them.
 */
const evidenceCache = new Map<string, KeyEvidence>();

/** Key evidence for a value at `keyPath` (outermost first, leaf last; array markers already removed). */
export function keyEvidence(keyPath: readonly string[]): KeyEvidence {
  if (keyPath.length !== 1) return evidenceOf(keyPath);
  const key = keyPath[0] as string;
  let ev = evidenceCache.get(key);
  if (ev !== undefined) return ev;
  ev = evidenceOf(keyPath);
  if (!cacheableKey(key)) return ev;
  if (evidenceCache.size >= KEY_CACHE_MAX) evidenceCache.clear();
  evidenceCache.set(key, ev);
  return ev;
}

function evidenceOf(keyPath: readonly string[]): KeyEvidence {
  const positive: Partial<Record<PiiKind, number>> = {};
  const n = keyPath.length;
  if (n === 0) return { positive, negative: false, leafTokens: EMPTY, idKey: false, leafCredential: false };
  let personAncestor = false;
  for (let i = 0; i < n - 1; i++) if (keyInfo(keyPath[i] as string).person) personAncestor = true;
  for (let i = n - 1, depth = 0; i >= 0 && depth < 6; i--, depth++) {
    const info = keyInfo(keyPath[i] as string);
    const w = depth === 0 ? 1 : depth === 1 ? 0.5 : 0.25;
    for (const k of info.pos) if ((positive[k] ?? 0) < w) positive[k] = w;
    if (depth === 0 && (personAncestor || info.person)) {
      for (const k of info.amb) if ((positive[k] ?? 0) < w) positive[k] = w;
    }
  }
  const leaf = keyInfo(keyPath[n - 1] as string);
  const leafCredential =
    leaf.pos.includes('api_key') || leaf.pos.includes('password') || leaf.pos.includes('session_token');
  return { positive, negative: leaf.neg, leafTokens: leaf.tokens, idKey: leaf.id, leafCredential };
}
