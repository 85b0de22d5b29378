import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export class SkyBotInboxApi implements ICredentialType {
	name = 'skyBotInboxApi';

	displayName = 'SkyBot Inbox API';

	icon: Icon = { light: 'file:../icons/skybot.svg', dark: 'file:../icons/skybot.dark.svg' };

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-skybot-inbox#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'https://inbox.example.com',
			description: 'The address of your SkyBot Inbox, without /api/v1',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description:
				'A key of your tenant (sk_live_...), made by a tenant admin with POST /api/v1/api-keys. Leads and messages need the write scope; agents need admin.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				'X-API-Key': '={{$credentials.apiKey}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl}}',
			url: '/api/v1/me',
			method: 'GET',
		},
	};
}
