//! Country names, as lists write them, to ISO 3166-1 alpha-2 codes.

use std::collections::HashMap;
use std::sync::OnceLock;

/// `CODE name; other name; …` per line. Includes the spellings the OFAC
/// lists use (`Korea, North`, `Burma`, `Bahamas, The`, `Region: Crimea` …).
const TABLE: &str = "\
AD Andorra
AE United Arab Emirates; UAE
AF Afghanistan
AG Antigua and Barbuda
AI Anguilla
AL Albania
AM Armenia
AO Angola
AQ Antarctica
AR Argentina
AS American Samoa
AT Austria
AU Australia
AW Aruba
AX Aland Islands
AZ Azerbaijan
BA Bosnia and Herzegovina; Bosnia-Herzegovina
BB Barbados
BD Bangladesh
BE Belgium
BF Burkina Faso
BG Bulgaria
BH Bahrain
BI Burundi
BJ Benin
BL Saint Barthelemy
BM Bermuda
BN Brunei; Brunei Darussalam
BO Bolivia
BQ Bonaire, Sint Eustatius and Saba; Caribbean Netherlands
BR Brazil
BS Bahamas; Bahamas, The; The Bahamas
BT Bhutan
BW Botswana
BY Belarus
BZ Belize
CA Canada
CC Cocos (Keeling) Islands
CD Congo, Democratic Republic of the; Democratic Republic of the Congo; DR Congo; Congo (Kinshasa); Zaire
CF Central African Republic
CG Congo, Republic of the; Republic of the Congo; Congo; Congo (Brazzaville)
CH Switzerland
CI Cote d Ivoire; Cote d'Ivoire; Ivory Coast
CK Cook Islands
CL Chile
CM Cameroon
CN China; People's Republic of China
CO Colombia
CR Costa Rica
CU Cuba
CV Cabo Verde; Cape Verde
CW Curacao
CX Christmas Island
CY Cyprus
CZ Czech Republic; Czechia
DE Germany
DJ Djibouti
DK Denmark
DM Dominica
DO Dominican Republic
DZ Algeria
EC Ecuador
EE Estonia
EG Egypt
EH Western Sahara
ER Eritrea
ES Spain
ET Ethiopia
FI Finland
FJ Fiji
FK Falkland Islands
FM Micronesia; Micronesia, Federated States of
FO Faroe Islands
FR France
GA Gabon
GB United Kingdom; UK; Great Britain; England; Scotland; Wales; Northern Ireland
GD Grenada
GE Georgia
GF French Guiana
GG Guernsey
GH Ghana
GI Gibraltar
GL Greenland
GM Gambia; The Gambia; Gambia, The
GN Guinea
GP Guadeloupe
GQ Equatorial Guinea
GR Greece
GT Guatemala
GU Guam
GW Guinea-Bissau
GY Guyana
HK Hong Kong
HN Honduras
HR Croatia
HT Haiti
HU Hungary
ID Indonesia
IE Ireland
IL Israel
IM Isle of Man
IN India
IQ Iraq
IR Iran; Iran, Islamic Republic of
IS Iceland
IT Italy
JE Jersey
JM Jamaica
JO Jordan
JP Japan
KE Kenya
KG Kyrgyzstan
KH Cambodia
KI Kiribati
KM Comoros
KN Saint Kitts and Nevis; St. Kitts and Nevis
KP Korea, North; North Korea; Korea, Democratic People's Republic of; DPRK
KR Korea, South; South Korea; Korea, Republic of; Korea
KW Kuwait
KY Cayman Islands
KZ Kazakhstan
LA Laos; Lao People's Democratic Republic
LB Lebanon
LC Saint Lucia
LI Liechtenstein
LK Sri Lanka
LR Liberia
LS Lesotho
LT Lithuania
LU Luxembourg
LV Latvia
LY Libya
MA Morocco
MC Monaco
MD Moldova
ME Montenegro
MF Saint Martin
MG Madagascar
MH Marshall Islands
MK North Macedonia; Macedonia
ML Mali; Region: Northern Mali
MM Burma; Myanmar
MN Mongolia
MO Macau; Macao
MP Northern Mariana Islands
MQ Martinique
MR Mauritania
MS Montserrat
MT Malta
MU Mauritius
MV Maldives
MW Malawi
MX Mexico
MY Malaysia
MZ Mozambique
NA Namibia
NC New Caledonia
NE Niger
NG Nigeria
NI Nicaragua
NL Netherlands; Holland
NO Norway
NP Nepal
NR Nauru
NZ New Zealand
OM Oman
PA Panama
PE Peru
PF French Polynesia
PG Papua New Guinea
PH Philippines
PK Pakistan
PL Poland
PR Puerto Rico
PS Palestinian; Palestine; West Bank; Gaza; Region: Gaza; Palestinian Territories
PT Portugal
PW Palau
PY Paraguay
QA Qatar
RE Reunion
RO Romania
RS Serbia
RU Russia; Russian Federation
RW Rwanda
SA Saudi Arabia
SB Solomon Islands
SC Seychelles
SD Sudan; Region: Kafia Kingi
SE Sweden
SG Singapore
SI Slovenia
SK Slovakia
SL Sierra Leone
SM San Marino
SN Senegal
SO Somalia
SR Suriname
SS South Sudan
ST Sao Tome and Principe
SV El Salvador
SX Sint Maarten
SY Syria; Syrian Arab Republic
SZ Eswatini; Swaziland
TC Turks and Caicos Islands
TD Chad
TG Togo
TH Thailand
TJ Tajikistan
TL Timor-Leste; East Timor
TM Turkmenistan
TN Tunisia
TO Tonga
TR Turkey; Turkiye
TT Trinidad and Tobago
TV Tuvalu
TW Taiwan
TZ Tanzania
UA Ukraine; Region: Crimea; Crimea
UG Uganda
US United States; USA; United States of America
UY Uruguay
UZ Uzbekistan
VA Holy See; Vatican
VC Saint Vincent and the Grenadines
VE Venezuela
VG Virgin Islands, British; British Virgin Islands
VI Virgin Islands, U.S.; US Virgin Islands
VN Vietnam; Viet Nam
VU Vanuatu
WS Samoa
XK Kosovo
YE Yemen
YT Mayotte
ZA South Africa
ZM Zambia
ZW Zimbabwe
AN Netherlands Antilles
";

fn key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn table() -> &'static HashMap<String, &'static str> {
    static MAP: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = HashMap::new();
        for line in TABLE.lines() {
            if let Some((code, names)) = line.split_once(' ') {
                for name in names.split(';') {
                    map.insert(key(name), code);
                }
            }
        }
        map
    })
}

/// The ISO code of a country name (case and punctuation ignored), or of an
/// ISO code itself.
pub fn code(name: &str) -> Option<&'static str> {
    let name = name.trim();
    if name.len() == 2 && name.bytes().all(|b| b.is_ascii_alphabetic()) {
        let upper = name.to_ascii_uppercase();
        return TABLE.lines().find_map(|l| {
            l.split_once(' ')
                .filter(|(c, _)| *c == upper)
                .map(|(c, _)| c)
        });
    }
    table().get(&key(name)).copied()
}

#[cfg(test)]
mod tests {
    use super::code;

    #[test]
    fn names_and_codes() {
        for (name, expected) in [
            ("Cuba", Some("CU")),
            ("Korea, North", Some("KP")),
            ("Bahamas, The", Some("BS")),
            ("Cote d Ivoire", Some("CI")),
            ("Region: Crimea", Some("UA")),
            ("congo, democratic republic of the", Some("CD")),
            ("ru", Some("RU")),
            ("undetermined", None),
            ("Atlantis", None),
            ("ZZ", None),
        ] {
            assert_eq!(code(name), expected, "{name}");
        }
    }
}
