# Catalogue des messages de Scellé — français.
# Chaque clé existe aussi dans en.ftl, avec les mêmes arguments (vérifié par les tests).

## Constats du vérificateur de dossiers

finding-unsupported-format = Format de dossier non pris en charge : « { $format } ».
finding-key-not-trusted = Le point de contrôle n'est signé par aucune clé de confiance fournie (--trusted-key). Clé du dossier : { $key } — comparez-la à la clé publiée par le nœud.
finding-checkpoint-invalid = Point de contrôle invalide : { $reason }.
finding-manifest-invalid = Le manifeste signé du dossier est invalide : { $reason }.
finding-manifest-mismatch = Le dossier ne correspond pas à son manifeste signé ({ $what }) : des entrées ont été retirées, ajoutées ou modifiées.
finding-entries-out-of-order = Entrée { $seq } : les entrées ne sont pas dans l'ordre du journal.
finding-entry-undecodable = Entrée { $seq } : les octets ne sont pas du base64 valide.
finding-leaf-hash-mismatch = Entrée { $seq } : l'empreinte de feuille ne correspond pas aux octets.
finding-inclusion-proof-fails = Entrée { $seq } : la preuve d'inclusion ne mène pas au point de contrôle signé (entrée ou preuve modifiée).
finding-entry-malformed = Entrée { $seq } : mal formée ({ $reason }).
finding-entry-other-log = Entrée { $seq } : elle appartient à un autre journal.
finding-prev-link-broken = Entrée { $seq } : le chaînage `prev` avec l'entrée précédente est rompu.
finding-case-missing = L'ouverture de l'affaire ne figure pas dans le dossier.
finding-case-reference-mismatch = Le dossier se présente comme l'affaire « { $claimed } », mais son ouverture signée porte la référence « { $signed } ».
finding-foreign-entry = Entrée { $seq } : elle ne concerne pas cette affaire.
finding-unknown-item = Entrée { $seq } : le scellé { $item } n'a pas été enregistré avant.
finding-custody-violation = Entrée { $seq } : chaîne de possession rompue pour le scellé { $item } — événement { $rule }.
finding-amends-unknown-event = Entrée { $seq } : corrige l'événement { $event }, absent du dossier pour ce scellé.
finding-opening-fails = La donnée ouverte { $record } ne correspond pas à son engagement dans le journal.
finding-opening-unknown = La donnée ouverte { $record } ne correspond à aucun engagement du dossier.
finding-consistency-fails = Le journal n'est pas une extension du point de contrôle antérieur fourni : { $reason }.
finding-file-not-registered = Le fichier { $file } (SHA-256 { $sha256 }) ne correspond à aucun scellé enregistré.

## Règles de la chaîne de possession (dans un constat : « événement … »)

custody-rule-not-holder = par quelqu'un qui ne le détenait pas
custody-rule-after-destruction = après sa destruction
custody-rule-after-return = après sa restitution
custody-rule-in-transit = pendant un transfert non réceptionné
custody-rule-no-pending-transfer = réception sans transfert en attente
custody-rule-not-recipient = réception par un autre que le destinataire
custody-rule-bad-recipient = transfert sans destinataire valable

## Erreurs de la chaîne de possession (réponses du nœud)

custody-not-holder = Seul le détenteur actuel du scellé peut enregistrer cet événement.
custody-destroyed = Le scellé a été détruit : aucun événement ne peut suivre.
custody-returned = Le scellé a été restitué et n'est plus sous garde.
custody-in-transit = Le scellé est en cours de transfert : le destinataire doit d'abord en accuser réception.
custody-no-pending-transfer = Aucun transfert en attente ne correspond à cette réception.
custody-not-recipient = Seul le destinataire désigné par le transfert peut en accuser réception.
custody-bad-recipient = Un transfert exige un destinataire autre que le détenteur.

## Vérification hors ligne (scelle verify, scelle-verify)

offline-read-failed = { $path } : lecture impossible : { $reason }
offline-not-a-dossier = { $path } : ce n'est pas un dossier Scellé : { $reason }
offline-bad-trusted-key = Clé de confiance invalide « { $key } » : { $reason }
offline-not-hashed = { $path } : le fichier n'a pas été haché
verify-header = Dossier { $reference } ({ $case }) — journal { $origin }
verify-checkpoint = Point de contrôle : taille { $size }, racine { $root }, clé { $key }
verify-entries = Entrées : { $entries } ; données ouvertes vérifiées : { $openings }
verify-extends-earlier = Le journal prolonge le point de contrôle antérieur (taille { $size })
verify-custody-unbroken = chaîne de possession intacte
verify-custody-broken = CHAÎNE DE POSSESSION ROMPUE
verify-item = - Scellé { $item } (pièce { $exhibit }, scellé { $seal }), SHA-256 { $sha256 } : { $custody } ; { $events ->
        [one] { $events } événement
       *[other] { $events } événements
    } ; détenteur { $holder } ({ $status })
verify-integrity-mismatch =   ! un contrôle d'intégrité a constaté une empreinte différente
verify-file-matches =   fichier conforme : { $file }
verify-verdict-ok = VERDICT : VÉRIFIÉ — tout concorde
verify-verdict-failed = VERDICT : ÉCHEC — { $findings ->
        [one] { $findings } constat
       *[other] { $findings } constats
    }
verify-not-verified = Dossier non vérifié.
verify-report-written = Rapport écrit : { $path } ({ $outcome })
verify-outcome-verified = vérifié
verify-outcome-failed = ÉCHEC

## Rapport pour le tribunal

report-title = Rapport de vérification — { $reference }
report-heading = Rapport de vérification d'un dossier de preuves numériques
report-subtitle = Scellé — registre vérifiable de la chaîne de possession
report-result = Résultat
report-verdict-ok = VÉRIFIÉ — toutes les vérifications sont concluantes.
report-verdict-failed = ÉCHEC — le dossier ne peut pas être tenu pour intègre.
report-log-origin = Journal (origine)
report-signed-checkpoint = Point de contrôle signé
report-entries-count = { $size } entrées
report-merkle-root = Racine de l'arbre de Merkle
report-key-id = Identifiant de la clé de signature
report-case-entries = Entrées de l'affaire vérifiées
report-consistency = Cohérence
report-consistency-detail = le journal prolonge le point de contrôle antérieur de taille { $size }
report-case = Affaire { $reference }
report-case-title = Intitulé
report-not-disclosed = (non communiqué)
report-state = État
report-offence = Infraction
report-legal-basis = Fondement juridique
report-agency-opened = Service, ouverture
report-items-and-derivations = Scellés et dérivations
report-exhibit-seal = Pièce { $exhibit } — scellé { $seal }
report-kind = Nature
report-description = Description
report-place-of-seizure = Lieu de saisie
report-derived-from = Dérivé de
report-verification = Vérification
report-custody-unbroken = Chaîne de possession ininterrompue
report-custody-broken = Chaîne de possession rompue
report-current-holder = détenteur actuel
report-integrity = Intégrité
report-integrity-mismatch = un contrôle a constaté une empreinte différente de celle enregistrée
report-file-checked = Fichier contrôlé
report-file-matches = conforme
report-entry-number = N° d'entrée
report-date = Date (lieu)
report-event = Événement
report-actor = Acteur
report-recipient = Destinataire
report-details = Détails
report-howto-title = Comment chacun peut le revérifier
report-howto-key = Obtenir la clé publique du nœud par un canal indépendant (publication officielle) et comparer son identifiant à celui ci-dessus.
report-howto-run = Lancer scelle verify dossier.json --trusted-key CLÉ --file FICHIER, ou l'outil indépendant tools/verify_dossier.py : aucun réseau, aucune base de données, aucune confiance dans le serveur de police.
report-howto-proofs = Chaque entrée est du JSON canonique (RFC 8785) ; son empreinte SHA-256 et sa preuve d'inclusion (RFC 9162) mènent à la racine signée : changer un seul octet fait échouer la preuve.
report-howto-manifest = Le manifeste signé liste toutes les entrées de l'affaire : en retirer une se voit.
report-howto-files = L'empreinte SHA-256 d'un fichier de preuve se recalcule avec n'importe quel outil (sha256sum) et se compare à celle enregistrée.
report-howto-format = Le format est publié (docs/FORMAT.md) : un expert peut écrire son propre vérificateur.

## Événements de la chaîne de possession et états (libellés)

event-registered = Enregistrement (saisie)
event-sealed = Mise sous scellé
event-acquired = Acquisition
event-copied = Copie
event-transferred = Remise (transfert)
event-received = Réception
event-stored = Entreposage
event-examined = Examen
event-integrity_checked = Contrôle d'intégrité
event-shared_externally = Communication externe
event-preservation_requested = Demande de conservation
event-transfer_cancelled = Transfert annulé par l’expéditeur
event-returned = Restitution
event-destroyed = Destruction
event-corrected = Rectification
code-seal_intact = scellé intact
code-seal_broken = SCELLÉ ROMPU
code-match = empreinte conforme
code-mismatch = EMPREINTE DIFFÉRENTE
code-in_custody = sous garde
code-in_transit = en transit
code-returned = restitué
code-destroyed = détruit

## Export CASE/UCO

case-uco-authorization-type = fondement juridique
case-uco-investigation-description = Journal Scellé { $origin } (État { $state }), point de contrôle de { $size } entrées ; vérifier le dossier avec scelle verify (docs/FORMAT.md).
case-uco-seal = scellé { $seal }
case-uco-seizure = saisie
case-uco-acquisition = acquisition
case-uco-to = à { $user }
case-uco-integrity = intégrité : { $result }
case-uco-seal-intact = scellé intact : { $intact }

## Champs refusés

error-invalid-field = Champ « { $field } » invalide : { $reason }.
field-one-of = doit être l'une des valeurs : { $values }
field-digest-length = n'a pas la longueur de cette empreinte
field-not-hex = doit être en hexadécimal
field-empty = ne doit pas être vide
field-too-long = est trop long
field-label-characters = n'accepte que lettres, chiffres et - _ . / : # °
field-control-characters = ne doit pas contenir de caractères de contrôle
field-not-rfc3339 = doit être une date RFC 3339 avec fuseau, p. ex. 2026-03-01T14:05:00+00:00
field-unrepresentable = ne peut pas être représenté
field-required-for-event = est obligatoire pour ce type d'événement
field-not-allowed-for-event = n'est pas permis pour ce type d'événement
field-too-large = est trop grand
field-needs-state-prefix = doit commencer par le code d'un État : bj. bf. ci. ne. tg.
field-needs-a-purpose = doit nommer au moins une finalité
field-password-too-short = doit compter au moins 12 caractères
field-cannot-disable-self = ne peut pas être vous-même : un autre administrateur doit le faire
field-not-an-ip-address = n'est pas une adresse IP (ex. 10.0.0.5 ou ::1)
field-must-be-future = doit être dans le futur
field-at-least-one-day = doit valoir au moins 1
field-not-a-date = doit être au format AAAA-MM-JJ
field-conditions-with-h3 = est obligatoire avec H3, et seulement avec H3
field-agency-or-state = donnez soit un service, soit un État, pas les deux
field-label-digits = n'accepte que les chiffres 0 à 9
field-label-scripts = mêle plusieurs écritures (latine, cyrillique…) qui se confondent à la lecture
field-bidi-controls = ne doit pas contenir de caractères de contrôle de direction (ils changent l'ordre affiché du texte)
field-confusable = se lit comme « { $other } », déjà employé dans cette affaire
field-before-1970 = ne peut pas être antérieur à 1970
field-in-the-future = est dans le futur
field-before-collection = précède la saisie du scellé
field-cannot-receive = ne peut pas recevoir ce scellé (les règles d'accès ne lui permettent pas d'en enregistrer la garde)
field-repeated = nomme deux fois la même valeur

## Ligne de commande

cli-usage-heading = Utilisation
cli-commands-heading = Commandes
cli-options-heading = Options
cli-help = Affiche l'aide
cli-version = Affiche la version
cli-error-unknown-argument = Argument inconnu : { $arg }
cli-error-unknown-command = Commande inconnue : { $command }
cli-error-invalid-value = Valeur « { $value } » refusée pour { $arg } ; valeurs possibles : { $valid }
cli-error-invalid-value-reason = Valeur « { $value } » refusée pour { $arg }
cli-error-missing-argument = Argument obligatoire manquant : { $arg }
cli-error-missing-command = Une sous-commande est attendue (voir --help).
cli-error-conflict = { $arg } ne peut pas être employé avec { $other }
cli-error-value-count = Nombre de valeurs incorrect pour { $arg }
cli-error-no-equals = { $arg } attend sa valeur après « = »
cli-error-not-utf8 = Un argument n'est pas de l'UTF-8 valide.
cli-error-other = Ligne de commande invalide ({ $detail }).

cli-scelle-verify = Vérifie un dossier hors ligne (sans réseau ni base) ; code 0 seulement si tout concorde
cli-scelle-verify--dossier = Fichier dossier (JSON)
cli-scelle-verify--trusted_keys = Clé de vérification de confiance (texte ou fichier), répétable
cli-scelle-verify--files = Fichier de preuve à confronter aux empreintes enregistrées, répétable
cli-scelle-verify--json = Rapport JSON sur la sortie standard
cli-scelle-verify--report = Écrit aussi le rapport HTML pour le tribunal dans ce fichier
cli-scelle-verify--lang = Langue du rapport pour le tribunal

## Raisons des règles d'accès qui refusent (policy-<@id de la règle>)

policy-share-expired = le partage de cette affaire avec votre service a expiré
policy-share-use-limited-to-stated-purposes = cette finalité n'est pas autorisée par les conditions du partage (Budapest, art. 28)
policy-H0-crime-prevention-only = code H0 : ces données ne servent qu'à la prévention ; ni écriture, ni dossier, ni autre finalité
policy-H1-not-for-court-without-consent = code H1 : pas d'usage devant un tribunal sans le consentement de l'État d'origine
policy-H2-no-onward-sharing = code H2 ou confidentialité : cette affaire ne peut pas être partagée à nouveau
policy-cross-border-needs-legal-basis = un partage hors de l'État de l'affaire doit indiquer sa base légale (legal_basis)
policy-cross-border-needs-conditions = un partage hors de l'État de l'affaire doit porter au moins un code de traitement (H0 à H3)
policy-personal-data-needs-a-purpose = toute lecture de données personnelles doit indiquer sa finalité (paramètre purpose)
policy-lab-sees-no-personal-data = le laboratoire ne reçoit pas de données personnelles
policy-admin-and-auditor-read-no-case-content = les administrateurs et les auditeurs n'ont pas accès au contenu des affaires
policy-auditor-reads-no-case-content = les administrateurs et les auditeurs n'ont pas accès au contenu des affaires
policy-share-only-by-owner-agency = seul le service propriétaire de l'affaire peut la partager ou retirer ses partages
policy-case-in-another-state-needs-legal-basis = une affaire relève de l'État de votre service, sauf à indiquer la base légale qui la place sous la juridiction d'un autre État (jurisdiction_basis)

## Erreurs de l'API et de la ligne de commande

not-found-case = Affaire introuvable.
not-found-evidence = Scellé introuvable.
not-found-parent-evidence = Scellé parent introuvable.
not-found-derived-evidence = Le scellé dérivé est introuvable dans cette affaire.
not-found-user = Utilisateur introuvable.
not-found-agency = Service introuvable.
not-found-entry = Entrée du journal introuvable.
not-found-checkpoint = Point de contrôle introuvable.
not-found-vault-record = Donnée personnelle introuvable.
not-found-token = Jeton introuvable.
not-found-person = Personne introuvable.
not-found-share = Partage introuvable.
conflict-case-reference = Une affaire porte déjà cette référence.
conflict-seal-number = Ce numéro de scellé est déjà utilisé dans cette affaire.
conflict-exhibit-number = Ce numéro de pièce est déjà utilisé dans cette affaire.
conflict-agency = Ce service existe déjà.
conflict-login = Ce nom de connexion est déjà celui d'un autre utilisateur.
conflict-duplicate = Cet enregistrement existe déjà (une autre requête l'a créé au même moment).
conflict-share-revoked = Ce partage est déjà révoqué.
denied-amends-other-item = la correction doit viser un événement du même scellé
denied-integrity-result-wrong = le résultat d'un contrôle d'intégrité doit être celui que dit son empreinte face au SHA-256 enregistré
error-forbidden = Action non autorisée : { $reason }.
error-unauthenticated = Authentification requise : jeton absent, invalide, expiré ou révoqué.
error-token-expired = Ce jeton a expiré : demandez-en un nouveau à l'administrateur.
error-token-revoked = Ce jeton a été révoqué.
error-user-disabled = Ce compte a été désactivé par un administrateur.
error-cross-site = Requête refusée : elle vient d'un autre site ou le formulaire n'a pas son jeton anti-CSRF ; rechargez la page.
error-not-durable = Le registre n'a pas pu rendre l'écriture durable (fsync) : elle a peut-être été enregistrée. Les ajouts sont arrêtés jusqu'au redémarrage du nœud ; vérifiez le journal avant de réessayer.
error-method-not-allowed = Méthode non permise pour cette adresse (permises : { $allow }).
error-access-denied = Accès refusé ({ $action })
error-access-denied-no-policy = Accès refusé ({ $action }) : aucune règle n'accorde cette action à votre rôle sur cette ressource.
error-bad-credentials = Identifiant ou mot de passe incorrect.
error-too-many-attempts = Trop de tentatives de connexion échouées ; réessayez dans { $seconds } s.
error-policies-invalid = Les règles d'accès sont invalides : { $detail }
error-bad-proof-request = Demande de preuve invalide : { $detail }.
error-bad-earlier-checkpoint = Le point de contrôle antérieur fourni n'est pas valide pour ce journal : { $detail }.
error-unavailable = Le registre est momentanément indisponible ; réessayez.
error-internal = Erreur interne du serveur ; rien n'a été enregistré. L'incident est journalisé.
error-malformed-request = Requête mal formée : { $detail }
error-body-too-large = Corps de requête trop volumineux (maximum { $limit } octets).
error-not-json = Le corps doit être du JSON (Content-Type: application/json).
error-no-such-route = Cette adresse n'existe pas.
error-request-timeout = La requête est arrivée trop lentement ; le serveur a cessé de l'attendre.
health-sync-failed = Le nœud n'a pas pu rendre le journal durable (fsync) : les ajouts sont arrêtés jusqu'à son redémarrage.
health-sequencer-stopped = Le séquenceur du nœud s'est arrêté : plus aucune entrée n'est ajoutée ; redémarrez le nœud.
health-database-unreachable = La base de données ne répond pas.

## Registre des traitements (scelle dpo report)

dpo-title = Registre des traitements — { $state } ({ $authority }, { $law })
dpo-node = Nœud : { $origin }    Établi le : { $at }
dpo-purposes = Finalités : enquête, poursuites, prévention, analyse criminalistique, contrôle.
dpo-data-held = Données détenues (enregistrements chiffrés) et durée de conservation :
dpo-days = { $days ->
        [one] { $days } jour
       *[other] { $days } jours
    }
dpo-reads = Lectures de données personnelles par finalité :
dpo-none = (néant)
dpo-access = Décisions d'accès par rôle (accordées / refusées) :
dpo-transfers = Transferts (partages d'affaires) :
dpo-cross-border = transfrontalier
dpo-transfer-terms = codes : { $codes }  finalités : { $purposes }  expire le : { $expires }
dpo-revoked = révoqué le : { $at }

## Pages

page-login-title = Connexion
page-login-login = Identifiant
page-login-password = Mot de passe
page-login-submit = Se connecter

## Surveillance d'un nœud (scelle checkpoint verify)

monitor-http = serveur injoignable ou réponse invalide : { $detail }
monitor-state = état local illisible ({ $path }) : { $reason }
monitor-bad-signature = point de contrôle non signé par la clé de confiance : { $detail }
monitor-rollback = RETOUR EN ARRIÈRE : le serveur montre { $new } entrées après en avoir signé { $old }
monitor-split-view = VUES DIVERGENTES : deux racines signées différentes pour la taille { $size }
monitor-inconsistent = JOURNAL RÉÉCRIT : la preuve de cohérence de { $old } à { $new } échoue
monitor-first = Premier point de contrôle vérifié et mémorisé (taille { $size })
monitor-unchanged = Inchangé, même racine signée (taille { $size })
monitor-grew = Le journal n'a fait que croître : { $from } → { $to } entrées, preuve de cohérence vérifiée

## Commandes de scelle (aide : cli-<chemin>, cli-<chemin>--<argument>)

cli-scelle = Scellé — registre vérifiable de la chaîne de garde des preuves numériques
cli-scelle--data_dir = Dossier des données (base SQLite, clé du nœud)
cli-scelle--database_url = Base PostgreSQL (postgres://…) au lieu du SQLite du dossier
cli-scelle-init = Initialise un nœud : base, clé (0600), service, premier administrateur
cli-scelle-init--origin = Origine du journal (nom des points de contrôle)
cli-scelle-init--agency = Service qui exploite le nœud
cli-scelle-init--agency_name = Nom du service
cli-scelle-migrate = Applique les migrations de la base
cli-scelle-migrate--revert_all = Annule toutes les migrations
cli-scelle-migrate--yes = Ne demande pas de confirmation (scripts)
cli-scelle-key = Les clés du nœud
cli-scelle-key-show = Affiche la clé de vérification du nœud et l'écrit dans un fichier (node.pub)
cli-scelle-key-show--output = Fichier où écrire la clé de vérification
cli-scelle-serve = Lance le serveur HTTP (initialise le dossier s'il n'existe pas)
cli-scelle-serve--listen = Adresse d'écoute
cli-scelle-serve--tls_cert = Certificat TLS (chaîne PEM) pour servir en HTTPS
cli-scelle-serve--tls_key = Clé privée TLS (PEM)
cli-scelle-serve--policies = Dossier des règles Cedar et de retention.json (défaut : règles intégrées)
cli-scelle-serve--retention_every_hours = Fréquence de la purge de conservation, en heures (0 : jamais)
cli-scelle-serve--trusted_proxies = Adresse d'un proxy inverse de confiance, dont X-Forwarded-For désigne le client (répétable)
cli-scelle-serve--origin = Origine du journal (nom des points de contrôle)
cli-scelle-serve--agency = Service qui exploite le nœud
cli-scelle-serve--agency_name = Nom du service
cli-scelle-policy = Règles d'accès Cedar
cli-scelle-policy-check = Valide les règles contre le schéma, et retention.json
cli-scelle-policy-check--dir = Dossier des règles (défaut : règles intégrées)
cli-scelle-retention = Durées de conservation
cli-scelle-retention-run = Efface ce dont la durée de conservation est échue, et le rapporte
cli-scelle-retention-run--dry_run = Rapporte sans effacer
cli-scelle-retention-run--policies = Règles (défaut : intégrées)
cli-scelle-retention-run--json = Rapport JSON
cli-scelle-dpo = Délégué à la protection des données
cli-scelle-dpo-report = Registre des traitements d'un État, en français et en anglais
cli-scelle-dpo-report--state = État : BJ, BF, CI, NE ou TG
cli-scelle-dpo-report--json = Rapport JSON
cli-scelle-user = Gestion des utilisateurs
cli-scelle-user-add = Ajoute un utilisateur et affiche son jeton en dernière ligne
cli-scelle-user-add--name = Nom de la personne
cli-scelle-user-add--role = Rôle : investigator, prosecutor, lab_analyst, auditor, admin ou dpo
cli-scelle-user-add--agency = Identifiant du service, ex. tg.police.dcpj
cli-scelle-user-add--token_days = Validité du jeton en jours
cli-scelle-user-password = Définit l'identifiant et le mot de passe web (lu sur l'entrée standard)
cli-scelle-user-password--user = Identifiant de l'utilisateur
cli-scelle-user-password--login = Nom de connexion
cli-scelle-user-disable = Désactive un utilisateur : révoque ses jetons, ferme ses sessions, refuse son mot de passe
cli-scelle-user-disable--user = Identifiant de l'utilisateur
cli-scelle-user-enable = Réactive un utilisateur désactivé (son mot de passe ; les jetons sont à délivrer de nouveau)
cli-scelle-user-enable--user = Identifiant de l'utilisateur
cli-scelle-agency = Gestion des services
cli-scelle-agency-add = Ajoute un service
cli-scelle-agency-add--id = Identifiant, ex. bj.police.ocrc
cli-scelle-agency-add--name = Nom du service
cli-scelle-agency-add--lab = Laboratoire criminalistique (et non service de police)
cli-scelle-token = Jetons d'accès : délivrance et révocation
cli-scelle-token-issue = Délivre un nouveau jeton à un utilisateur (dernière ligne)
cli-scelle-token-issue--user = Identifiant de l'utilisateur
cli-scelle-token-issue--days = Validité en jours
cli-scelle-token-revoke = Révoque un jeton (la partie hexadécimale après sct_)
cli-scelle-token-revoke--id = Identifiant du jeton
cli-scelle-token-revoke--user = Révoque tous les jetons de cet utilisateur et ferme ses sessions
cli-scelle-audit = Revérifie tout le stocké (entrées, chaîne, nœuds, points de contrôle)
cli-scelle-rebuild = Reconstruit les tables du registre depuis le journal
cli-scelle-hash = SHA-256 de fichiers, au format sha256sum
cli-scelle-hash--files = Fichiers à hacher
cli-scelle-dossier = Dossiers de preuve pour le tribunal
cli-scelle-dossier-export = Exporte le dossier d'une affaire
cli-scelle-dossier-export--case = Référence ou identifiant de l'affaire
cli-scelle-dossier-export--output = Fichier de sortie (sortie standard sinon)
cli-scelle-dossier-export--since_checkpoint = Point de contrôle déjà détenu par le destinataire
cli-scelle-dossier-export--without_personal_data = Sans les données personnelles
cli-scelle-dossier-export--format = Format : dossier vérifiable (json) ou CASE 1.4 / UCO JSON-LD (case-uco)
cli-scelle-dossier-report = Rapport HTML pour le tribunal (imprimable A4), après vérification
cli-scelle-dossier-report--dossier = Fichier dossier (JSON)
cli-scelle-dossier-report--lang = Langue du rapport
cli-scelle-dossier-report--output = Fichier HTML à écrire
cli-scelle-dossier-report--trusted_keys = Clé de vérification de confiance (texte ou fichier), répétable
cli-scelle-dossier-report--files = Fichier de preuve à confronter, répétable
cli-scelle-checkpoint = Surveillance des points de contrôle d'un nœud
cli-scelle-checkpoint-verify = Vérifie que le journal du serveur n'a fait que croître depuis le dernier point de contrôle vérifié, puis mémorise le nouveau
cli-scelle-checkpoint-verify--server = Adresse du nœud, ex. https://scelle.dcpj.tg
cli-scelle-checkpoint-verify--trusted_key = Clé de vérification de confiance (texte ou fichier)
cli-scelle-checkpoint-verify--state = Fichier où est gardé le dernier point de contrôle vérifié
cli-scelle-checkpoint-verify--token = Jeton d'accès au journal
cli-scelle-bench = Mesures de performance (build avec --features bench)
cli-scelle-bench--entries = Taille du journal pour les preuves et l'audit
cli-scelle-bench--seconds = Durée de la mesure des ajouts (s)
cli-scelle-bench--writers = Rédacteurs concurrents
cli-scelle-bench--writer_threads = Fils portant les rédacteurs-tâches (défaut : les cœurs moins un)
cli-scelle-bench--hash_mib = Taille du fichier haché (Mio)
cli-scelle-bench--dossier_items = Scellés de l'affaire du dossier mesuré
cli-scelle-bench--dossier_events = Événements de garde de cette affaire
cli-scelle-bench--work_dir = Dossier de travail (temporaire par défaut)
cli-scelle-bench--phases = Phases mesurées

## Sorties de scelle

cli-out-verifier-key = Clé de vérification du nœud :
cli-out-admin-token = Jeton administrateur (affiché une seule fois ; il expire dans { $days } jours, « scelle token issue » en délivre un autre) :
cli-out-admin-token-file = Jeton administrateur écrit dans { $path } (lisible par ce seul utilisateur ; il expire dans { $days } jours : lisez-le, puis supprimez le fichier)
cli-out-initializing = Initialisation de { $dir }
cli-out-listening = Scellé écoute sur { $url } ({ $database }, origine { $origin })
cli-out-migrations-applied = { $count ->
        [one] { $count } migration appliquée
       *[other] { $count } migrations appliquées
    }
cli-out-migrations-reverted = { $count ->
        [one] { $count } migration annulée
       *[other] { $count } migrations annulées
    }
cli-out-folder = dossier { $dir }
cli-out-built-in = intégrées
cli-out-policies-valid = Règles d'accès valides : { $count } règles, schéma { $schema }, retention.json ({ $source })
cli-policies-invalid = Règles d'accès invalides ; le nœud ne démarre pas : { $detail }
cli-out-retention-would-erase = { $count } à effacer ({ $examined } examinés)
cli-out-retention-erased = { $count } effacés ({ $examined } examinés)
cli-out-password-set = Mot de passe défini pour { $login }
cli-out-user-created = Utilisateur créé : { $id } ({ $role }, { $agency })
cli-out-token-issued = Jeton délivré ({ $days ->
        [one] { $days } jour
       *[other] { $days } jours
    })
cli-out-token-revoked = Jeton révoqué : { $id }
cli-out-user-disabled = Utilisateur désactivé : { $id } (ni jeton, ni session, ni mot de passe ne lui ouvre plus le nœud)
cli-out-user-enabled = Utilisateur réactivé : { $id } (son mot de passe vaut de nouveau ; délivrez-lui un jeton avec « scelle token issue »)
cli-out-ways-in-ended = { $id } : { $tokens ->
        [one] { $tokens } jeton révoqué
       *[other] { $tokens } jetons révoqués
    }, { $sessions ->
        [one] { $sessions } session fermée
       *[other] { $sessions } sessions fermées
    }
cli-out-agency-added = Service ajouté (seq { $seq })
cli-out-audit-passed = Audit réussi : { $entries } entrées, { $nodes } nœuds, { $checkpoints } points de contrôle, { $megabytes } Mo en { $seconds } s
cli-audit-failed = AUDIT ÉCHOUÉ : { $findings ->
        [one] un constat
       *[other] { $findings } constats
    }, { $entries ->
        [0] aucune entrée en cause
        [one] une entrée en cause
       *[other] { $entries } entrées en cause
    }
cli-rebuild-failed = Reconstruction échouée : { $detail }
cli-out-rebuilt = Registre reconstruit depuis { $entries } entrées
cli-out-dossier-written = Dossier écrit : { $path } ({ $entries } entrées)
audit-entry-missing = entrée manquante (l'entrée conservée suivante est la seq { $next })
audit-entries-missing-to = entrée manquante (le journal signé en compte au moins { $size })
audit-leaf-hash-changed = l'empreinte de feuille conservée ne correspond pas aux octets de l'entrée
audit-chain-broken = les octets de l'entrée ne portent pas cette seq avec un `prev` lié à l'entrée précédente
audit-unsigned-tail = entrées conservées au-delà du dernier point de contrôle signé (taille { $size }), jusqu'à la seq { $last }
audit-row-outside = une ligne d'entrée à la seq { $seq }, hors du journal contigu de { $size } entrées
audit-log-truncated = journal tronqué : un point de contrôle signé couvre { $signed } entrées mais il n'en reste que { $remain }
audit-node-count = { $stored } nœuds internes conservés pour les { $size } premières entrées, qui en ont { $expected } : des nœuds ont été insérés ou laissés
audit-orphan-nodes = { $count } nœuds internes conservés au-delà de la dernière entrée du journal
audit-checkpoint-unreadable = point de contrôle de taille { $size } illisible : { $detail }
audit-checkpoint-row-mismatch = la ligne du point de contrôle de taille { $size } ne correspond pas à sa note signée
audit-checkpoint-root-mismatch = le point de contrôle signé de taille { $size } ne correspond pas à la racine recalculée du journal
audit-node-changed = le nœud interne conservé (niveau { $level }, index { $index }) a été modifié
audit-node-missing = le nœud interne (niveau { $level }, index { $index }) est manquant ou mal placé
audit-entry-unreadable = l'entrée est illisible : { $detail }
audit-entry-refused = les règles du registre refusent cette entrée : { $reason }
audit-registry-not-compared = les tables du registre n'ont pas été comparées au journal : une entrée manque à partir d'ici
audit-row-differs = table { $table }, ligne { $key } : { $column } vaut { $stored }, le journal dit { $expected }
audit-row-missing = table { $table } : la ligne { $key } manque, le journal dit qu'elle existe
audit-row-unaccounted = table { $table } : aucune entrée du journal ne crée la ligne { $key }
audit-erased-record-present = l'enregistrement { $record } du coffre est encore conservé alors que le journal dit qu'il a été effacé
ledger-failed = le registre a échoué : { $detail }
error-registry-disagrees = Le registre ne correspond pas au journal pour { $table } { $key } : le nœud ne décide rien sur cette base. Lancez scelle audit.
audit-case-chain-broken = le registre de garde de l'affaire { $case } bifurque : cette entrée renvoie à la seq { $links }, la dernière entrée de l'affaire était la seq { $newest }
verify-as-of = ÉTAT AU { $time } : le registre de l'affaire jusqu'à l'émission de ce dossier (seq { $seq }), dans un journal de { $size } entrées. Les événements postérieurs ne figurent pas dans ce dossier.
verify-as-of-unknown = ÉTAT AU : inconnu (dossier émis avant que les entrées de l'affaire soient chaînées) ; son journal comptait { $size } entrées. Les événements postérieurs ne figurent pas dans ce dossier.
verify-complete = Complétude : prouvée — chaque entrée de l'affaire renvoie à la précédente, jusqu'à l'émission de ce dossier ; aucune n'a été omise.
verify-complete-from = Complétude : prouvée à partir de la seq { $seq } ; les entrées antérieures de l'affaire ont été écrites avant le chaînage (format 1), et leur complétude repose sur la parole du nœud.
verify-complete-unproven = Complétude : non prouvée — rien dans ce dossier ne montre qu'aucune entrée de l'affaire n'a été omise.
finding-case-chain-broken = L'entrée { $seq } ne renvoie pas à l'entrée de l'affaire qui la précède dans le dossier : une entrée de l'affaire a été omise avant elle.
finding-dossier-not-issued = Le dossier ne se termine pas par sa propre émission (dossier.issued) : des entrées de sa fin ont pu être retranchées.
finding-case-opened-twice = L'entrée { $seq } ouvre l'affaire une seconde fois.
finding-item-registered-twice = L'entrée { $seq } enregistre le scellé { $item } une seconde fois.
finding-integrity-result-wrong = Entrée { $seq } : le contrôle d'intégrité du scellé { $item } consigne un résultat que son empreinte ne donne pas.
finding-known-checkpoint-invalid = Le point de contrôle que vous détenez ne concorde pas avec ce journal : { $reason }
finding-older-than-known-checkpoint = Ce dossier est plus ancien que le point de contrôle que vous détenez ({ $dossier } entrées contre { $known }) : des événements postérieurs de l'affaire peuvent exister. Demandez un nouveau dossier.
finding-known-checkpoint-not-proven = Le dossier ne prouve pas que son journal prolonge le point de contrôle que vous détenez ({ $known } entrées) : demandez un dossier exporté depuis ce point de contrôle.
cli-scelle-verify--known_checkpoint = Un point de contrôle signé que vous détenez déjà (fichier) : le dossier doit le prolonger et ne pas être plus ancien

## Démarrage refusé (erreurs d'exploitation)
start-no-node-in-folder = Aucun nœud dans { $dir } (pas de node.key). Pour créer un nœud ici, lancez d'abord « scelle init --data-dir { $dir } » ; sinon vérifiez le chemin (une faute de frappe créerait un second nœud avec une autre clé).
start-no-database = Le dossier contient la clé d'un nœud, mais sa base { $database } est absente ou ne contient aucun journal. Le nœud ne démarre pas sur une base vide : il signerait une seconde histoire sous la même clé. Restaurez la base (scelle restore) ou vérifiez --database-url.
start-older-than-published = La base ne contient que { $size } entrées, alors que ce nœud a déjà publié un point de contrôle de { $published } entrées : c'est une base plus ancienne (sauvegarde, copie). Le nœud ne démarre pas, il créerait une bifurcation. Restaurez la base la plus récente.
start-differs-from-published = À la taille { $published } qu'il a publiée, le journal de cette base a une autre racine que celle que ce nœud a signée : c'est une autre histoire. Le nœud ne démarre pas.
start-key-open-to-others = Le fichier secret { $file } est lisible ou modifiable par d'autres (mode { $mode }). Le nœud ne démarre pas : faites « chmod 600 { $file } ».
start-url-without-scheme = L'URL de base de données doit commencer par sqlite:// ou postgres:// (un chemin seul créerait une base SQLite là où on ne l'attend pas).
start-folder-open = Attention : le dossier { $dir } est accessible à d'autres utilisateurs (mode { $mode }) ; faites « chmod 700 { $dir } ».
cli-revert-all-confirm = Ceci supprime tout le schéma, journal de preuves compris, de { $database }. Tapez « oui » pour confirmer (ou passez --yes) :
cli-revert-all-not-confirmed = Rien n'a été supprimé : confirmation absente.
cli-out-node-pub-written = Clé de vérification écrite dans { $file }

## Sauvegarde et restauration
backup-postgres = Un nœud PostgreSQL se sauvegarde avec les outils de PostgreSQL (pg_dump ou pg_basebackup), avec une copie de node.key, vault.key, vault-epochs.key et published.checkpoint : voir le README.
backup-target-not-empty = Le dossier { $dir } n'est pas vide : une sauvegarde va dans un dossier neuf.
backup-not-a-backup = { $dir } n'est pas une sauvegarde de Scellé ({ $detail }).
backup-corrupt = Le fichier { $file } de la sauvegarde ne correspond pas à son empreinte dans backup.json : la sauvegarde est endommagée ou modifiée. Rien n'a été restauré.
backup-target-holds-database = Le dossier contient déjà une base ({ $database }) : déplacez-la d'abord ; la restauration ne remplace rien.
backup-other-node = Le dossier contient la clé d'un autre nœud que celui de la sauvegarde. Rien n'a été restauré.
backup-audit-failed = Le journal de la sauvegarde ne passe pas l'audit ; rien n'a été restauré : { $detail }
cli-out-backup-taken = Sauvegarde faite dans { $dir } : { $entries } entrées du journal { $origin }, clés et point de contrôle publié compris (dossier 0700, fichiers 0600).
cli-out-restored = Restauré : { $entries } entrées, audit réussi ; le journal prolonge le dernier point de contrôle publié ({ $published } entrées). Le nœud peut démarrer.
cli-out-restored-unpublished = Restauré : { $entries } entrées, audit réussi (le nœud n'avait rien publié). Le nœud peut démarrer.
cli-scelle-backup = Sauvegarde le nœud (base SQLite cohérente, clés, dernier point de contrôle publié) dans un dossier neuf, même pendant qu'il sert
cli-scelle-backup--to = Dossier (neuf) de la sauvegarde
cli-scelle-restore = Restaure une sauvegarde dans le dossier du nœud, après audit et vérification qu'elle ne crée pas de bifurcation
cli-scelle-restore--from = Dossier de la sauvegarde

## Politique des pairs (C2SP tlog-policy) et témoins (C2SP tlog-witness)

policy-line-invalid = Politique des pairs, ligne { $line } : { $reason }.
policy-line-character = caractère interdit (seule la tabulation est admise parmi les caractères de contrôle)
policy-line-keyword = mot-clé inconnu (attendu : log, witness, group ou quorum)
policy-line-arguments = nombre d'arguments incorrect pour ce mot-clé
policy-line-key = clé de vérification invalide (type 0x01 pour un journal, 0x04 pour un témoin)
policy-line-duplicate-key = cette clé figure déjà dans la politique
policy-line-duplicate-name = ce nom est déjà défini (ou c'est le nom réservé « none »)
policy-line-undefined-name = ce nom n'est défini sur aucune ligne précédente
policy-line-repeated-member = un membre figure deux fois dans le groupe
policy-line-threshold = seuil invalide (all, any, ou k entre 1 et le nombre de membres)
policy-line-second-quorum = une seconde ligne « quorum » (une seule est permise)
policy-line-too-many = trop de définitions (256 au plus par sorte)
policy-no-quorum = La politique des pairs n'a pas de ligne « quorum ».
policy-unknown-log = Le point de contrôle n'est signé par aucun journal de la politique.
policy-checkpoint-invalid = Point de contrôle illisible : { $reason }.
policy-bad-cosignature = La cosignature du témoin { $witness } est invalide (falsifiée ou abîmée).
policy-quorum-not-met = Quorum non atteint : cosigné seulement par { $cosigned }.
witness-malformed = Requête add-checkpoint mal formée : { $reason }.
witness-old-above-new = L'ancienne taille { $old } dépasse la taille du point de contrôle ({ $size }).
witness-unknown-origin = Ce témoin ne connaît pas le journal « { $origin } ».
witness-untrusted = Le point de contrôle ne porte aucune signature d'une clé de confiance pour ce journal.
witness-conflict = Ce témoin a cosigné en dernier la taille { $size } : envoyez une preuve depuis celle-ci.
witness-bad-proof = La preuve de cohérence ne se vérifie pas : ce point de contrôle ne prolonge pas celui que le témoin a cosigné.
field-peer-log-key = ce n'est pas une clé de vérification C2SP de journal (nom+id+base64, type 0x01)
field-peer-witness-key = ce n'est pas une clé de vérification C2SP de témoin (nom+id+base64, type 0x04)
field-peer-url = une adresse https:// sans espace est attendue
field-peer-name = lettres, chiffres, « - », « _ » et « . » seulement, et ni « entente », ni « none », « all » ou « any »
field-peer-cert = ce n'est pas un certificat PEM lisible
start-no-peers = Ce nœud n'a pas de fichier peers.policy : lancez d'abord « scelle peer init », puis ajoutez ses pairs (« scelle peer add »), avant d'ouvrir l'écoute des pairs (--peer-listen).
not-found-cosigned-checkpoint = Aucun point de contrôle de ce nœud n'a encore été cosigné par le quorum de ses témoins.
cli-out-peer-listening = Écoute des pairs (TLS mutuel) sur { $url }
cli-scelle-serve--peer_listen = Adresse d'écoute des pairs (TLS mutuel, certificats épinglés de peers/)
cli-scelle-peer = Le réseau de l'Entente : identité de ce nœud et ses pairs
cli-scelle-peer-init = Crée la clé de témoin, le certificat entre nœuds et peers.policy de ce nœud
cli-scelle-peer-init--url = Adresse https:// où les pairs joignent ce nœud (celle de --peer-listen)
cli-scelle-peer-init--hosts = Nom DNS ou adresse IP supplémentaire du certificat (répétable)
cli-scelle-peer-identity = Affiche la commande qu'un pair exécute pour ajouter ce nœud
cli-scelle-peer-add = Ajoute un pair : son journal, son témoin et son certificat épinglé
cli-scelle-peer-add--name = Nom du pair dans la politique (ex. tg.police.dcpj)
cli-scelle-peer-add--log_key = Clé de vérification du journal du pair (type 0x01)
cli-scelle-peer-add--witness_key = Clé de vérification du témoin du pair (type 0x04)
cli-scelle-peer-add--url = Adresse https:// du pair entre nœuds
cli-scelle-peer-add--cert = Certificat PEM du pair, épinglé
cli-scelle-peer-quorum = Fixe le quorum : k témoins sur l'ensemble, all, any ou none
cli-scelle-peer-quorum--threshold = k, all, any ou none
cli-scelle-peer-list = Liste les pairs et ce que ce nœud a cosigné de leurs journaux
cli-out-peer-initialized = Identité entre nœuds prête dans { $dir } (witness.key, peer-tls.pem, peers.policy).
cli-out-peer-identity = Pour ajouter ce nœud, un pair exécute :
cli-out-peer-fingerprint = Empreinte SHA-256 du certificat : { $fingerprint }
cli-out-peer-added = Pair « { $name } » ajouté ; redémarrez « scelle serve » pour qu'il compte.
cli-out-peer-quorum = Quorum fixé : { $threshold } ; redémarrez « scelle serve » pour qu'il compte.
cli-out-peer-none = Aucun pair : ce nœud n'a pas de peers.policy (« scelle peer init »).
cli-out-peer-line = { $name } — { $url } — journal { $log } — certificat épinglé { $pinned } — cosigné jusqu'à { $witnessed } ({ $at })
cli-scelle-verify--policy = Politique des pairs (C2SP tlog-policy) : le point de contrôle doit être signé par l'un de ses journaux et cosigné par le quorum de ses témoins
offline-bad-policy = { $path } n'est pas une politique de pairs valable : { $reason }
verify-cosigned-by = Cosigné par le quorum de la politique : { $witnesses }.
finding-checkpoint-not-cosigned = Le point de contrôle ne satisfait pas la politique des pairs : { $reason }. Un autre état du journal a pu être montré à vous seul.
cli-out-peer-alert = ⚠ Le journal { $log } s'est contredit ({ $seen }) : la preuve est l'entrée { $seq } de ce nœud ({ $at }).
cli-scelle-peer-status = Ce que ce nœud publie (cosigné par qui, quand) et les contradictions de pairs qu'il a relevées
cli-out-peer-published = Publié : taille { $size }, cosigné le { $at } par { $witnesses }.
cli-out-peer-unpublished = Rien de cosigné encore : le quorum des témoins n'a pas répondu (« scelle serve » tourne-t-il ?).
cli-out-peer-no-alert = Aucune contradiction relevée chez les pairs.
cli-scelle-key-rotate = Crée la clé suivante du nœud : les deux signent jusqu'au retrait de l'ancienne, et une déclaration signée des deux annonce la nouvelle aux pairs
cli-scelle-key-retire = Retire l'ancienne clé (détruite) une fois publié un point de contrôle signé de la nouvelle
cli-key-rotation-under-way = Une rotation de clé est déjà en cours ({ $file }) : terminez-la avec « scelle key retire ».
cli-key-no-rotation = Aucune rotation de clé en cours : lancez d'abord « scelle key rotate ».
cli-key-retire-too-early = Le nœud n'a encore publié aucun point de contrôle signé de la nouvelle clé : relancez « scelle serve » pour que les deux clés signent, attendez que ses pairs l'aient vu, puis retirez l'ancienne.
cli-out-key-rotated = Clé suivante créée : { $key }. Déclaration pour les pairs : { $statement } (« scelle peer rotate --statement … » chez chacun). Relancez « scelle serve » : les deux clés signent désormais.
cli-out-key-retired = L'ancienne clé est détruite ; le nœud signe avec { $key } seule. Relancez « scelle serve ».
cli-scelle-peer-rotate = Ajoute la nouvelle clé d'un pair, annoncée par sa déclaration de rotation signée de l'ancienne et de la nouvelle
cli-scelle-peer-rotate--statement = La déclaration (fichier key-rotation.note du pair)
cli-out-peer-rotated = Nouvelle clé du journal { $log } ajoutée à côté de l'ancienne ; redémarrez « scelle serve » pour qu'elle compte.
field-rotation-statement = déclaration de rotation refusée : { $reason }
field-peer-is-self = c'est la clé de témoin de ce nœud lui-même, pas celle d'un pair
field-peer-threshold = un nombre, « all », « any » ou « none » est attendu
witness-part-utf8 = le corps n'est pas de l'UTF-8
witness-part-old = la première ligne n'est pas « old <taille> »
witness-part-empty-line = aucune ligne vide ne sépare la preuve du point de contrôle
witness-part-proof-count = plus de 63 lignes de preuve
witness-part-proof-line = une ligne de preuve n'est pas une empreinte en base64
witness-part-note = le point de contrôle n'est pas une note signée
witness-part-body = le texte de la note n'est pas un point de contrôle
witness-part-size = une taille d'arbre que ce témoin ne peut pas enregistrer
transfer-unsupported-format = Format de transfert non pris en charge (« scelle-transfer/1 » attendu).
transfer-bad-id = L'identifiant du transfert est mal formé.
transfer-not-addressed-here = Ce transfert est adressé à un autre nœud.
transfer-not-the-senders-log = Le dossier n'est pas du journal du pair qui l'a envoyé.
transfer-dossier-fails = Le dossier ne se vérifie pas : { $reason }
transfer-share-unproven = Le partage n'est pas une entrée « case.shared » du journal de l'expéditeur prouvée jusqu'au point de contrôle du dossier.
transfer-share-of-another-case = Le partage porte sur une autre affaire que celle du dossier.
transfer-not-shared-with-us = L'affaire n'a été partagée ni avec cet État ni avec l'un de ses services.
transfer-share-expired = Le partage sous lequel l'affaire a été envoyée a expiré.
transfer-no-legal-basis = Un transfert hors des frontières exige une base légale, et le partage n'en indique aucune.
conflict-transfer = Ce transfert est déjà enregistré.
not-found-transfer = Aucun dossier reçu sous cet identifiant de transfert.
not-found-share-to-peer = Cette affaire n'a aucun partage en cours (ni révoqué, ni expiré) avec l'État de ce pair ou l'un de ses services : partagez-la d'abord (« POST /api/v1/cases/{"{"}id{"}"}/shares »).
not-found-peer = Aucun pair de ce nom, avec une adresse, un journal et un certificat épinglé, dans peers.policy.
transfer-refused-before = Ce transfert a été refusé lors de son premier envoi ({ $code }).
transfer-malformed = Ce n'est pas un transfert (scelle-transfer/1) : { $reason }
transfer-unknown-sender = Le pair appelant n'a aucun journal dans le peers.policy de ce nœud.
cli-scelle-peer-outbox = Les dossiers que ce nœud doit ou a envoyés à ses pairs, du plus récent (JSON, une ligne chacun)
cli-scelle-peer-outbox--limit = Nombre maximal de transferts
cli-scelle-peer-inbox = Les dossiers que les pairs ont envoyés à ce nœud, importés ou refusés (JSON, une ligne chacun)
cli-out-peer-outbox = Dossiers en attente de livraison : { $queued }
transfer-conditions-do-not-travel = L'affaire a été partagée sous H3 : ses conditions sont scellées dans le coffre de l'expéditeur et ne voyagent pas encore entre nœuds, ce nœud ne pourrait donc pas les respecter.
transfer-too-large = Ce dossier ({ $bytes } octets) dépasse la taille permise d'un transfert entre nœuds (256 Mio).
transfer-busy = Un autre transfert de ce nœud est en cours de réception : envoyez-les un par un.
delivery-local-error = Ce nœud n'a pu préparer ou enregistrer la livraison : { $reason }
delivery-peer-unreachable = Le pair est injoignable (le transfert attend et partira au retour de la liaison) : { $reason }
delivery-peer-answer = Le pair a répondu HTTP { $status } (le transfert attend et sera renvoyé) : { $body }
delivery-bad-receipt = L'accusé de réception du pair ne se vérifie pas : la livraison n'est pas enregistrée (le transfert sera renvoyé) : { $reason }
verify-sent-to = Envoyé à { $peer } (entrée { $seq }, transfert { $transfer }) : enregistré là-bas comme entrée { $received }, vérifiée sous sa clé lors de la livraison.
transfer-duplicate = Ce nœud a déjà reçu ce dossier de ce pair sous un autre identifiant de transfert ; il n'est pas enregistré à nouveau.
transfer-id-taken = Cet identifiant de transfert désigne le dossier d'un autre pair sur ce nœud : envoyez-le sous un nouvel identifiant.
transfer-too-slow = Le transfert n'a pas été envoyé en 120 secondes ; la connexion est fermée.
